#!/bin/sh
# End to end: emergent tokenize --data FILES --out DIR writes llm.c's token shards; train
# --data DIR trains from them (and resumes bit-identically); bad shards are refused naming
# the file and the field.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp

head -c 60000 data/tinyshakespeare.txt >"$tmp/a.txt"
tail -c 20000 data/tinyshakespeare.txt >"$tmp/b.txt"
"$E" bpe train --data "$tmp/a.txt" --vocab-size 300 --out "$tmp/tok" --quiet >/dev/null 2>&1 \
    || bad "bpe train"
"$E" tokenize --data "$tmp/a.txt" "$tmp/b.txt" --tokenizer "$tmp/tok" --out "$tmp/sh" \
    --shard-size 10000 >"$tmp/out" 2>"$tmp/err" \
    && grep -q 'shards (version 1, uint16 tokens)' "$tmp/out" && grep -q 'tokenize' "$tmp/err" \
    && [ -f "$tmp/sh/shard_val_000000.bin" ] && [ -f "$tmp/sh/shard_train_000001.bin" ] \
    && ! ls "$tmp/sh" | grep -q tmp \
    && ok "tokenize --data A B --out DIR: shards, progress on stderr" \
    || bad "tokenize --data: $(cat "$tmp/out" "$tmp/err")"
# the shards hold <|endoftext|> + ids(a) + <|endoftext|> + ids(b), as tokenize --print gives
{ printf '299,'; "$E" tokenize --tokenizer "$tmp/tok" --input "$tmp/a.txt" --print | tr -d '\n'
  printf ',299,'; "$E" tokenize --tokenizer "$tmp/tok" --input "$tmp/b.txt" --print; } >"$tmp/want"
python3 - "$tmp/sh" "$tmp/want" <<'PY' && ok "shards = <|endoftext|> + each file's ids" || bad "shard contents differ"
import os, struct, sys
d = sys.argv[1]
ids = []
for f in sorted(os.listdir(d), key=lambda n: (0 if "_val_" in n else 1, n)):
    b = open(os.path.join(d, f), "rb").read()
    magic, version, n = struct.unpack("<3i", b[:12])
    assert magic == 20240520 and version == 1 and len(b) == 1024 + 2 * n, f
    ids += struct.unpack("<%dH" % n, b[1024:])
want = [int(x) for x in open(sys.argv[2]).read().strip().split(",")]
sys.exit(0 if ids == want else 1)
PY

T="--n-layer 1 --n-head 2 --n-embd 16 --block-size 16 --batch-size 4 --eval-every 4 --eval-iters 2 --quiet"
"$E" train --data "$tmp/sh" --tokenizer "$tmp/tok" $T --steps 8 --out "$tmp/r1" >"$tmp/out" 2>&1 \
    && grep -q '"val_loss"' "$tmp/r1/log.jsonl" && ok "train --data DIR of shards" \
    || bad "train from shards: $(cat "$tmp/out")"
"$E" train --data "$tmp/sh" --tokenizer "$tmp/tok" $T --steps 8 --stop-after 4 --out "$tmp/r2" >/dev/null 2>&1
"$E" train --resume "$tmp/r2" --quiet >"$tmp/out" 2>&1 || bad "resume: $(cat "$tmp/out")"
sed 's/"tok_per_s":[0-9.]*//' "$tmp/r1/log.jsonl" >"$tmp/l1"
sed 's/"tok_per_s":[0-9.]*//' "$tmp/r2/log.jsonl" >"$tmp/l2"
cmp -s "$tmp/l1" "$tmp/l2" && cmp -s "$tmp/r1/model.safetensors" "$tmp/r2/model.safetensors" \
    && ok "resume from shards is bit-identical (log, weights)" \
    || bad "resume: $(diff "$tmp/l1" "$tmp/l2" | head -5)"

expect_error "train on shards with the char tokenizer" "token shards need the tokenizer" \
    "$E" train --data "$tmp/sh" --steps 1 --out "$tmp/r3"
expect_error "shards written with another tokenizer" "header\[3\] (vocabulary size): 300, but the tokenizer has 50257" \
    "$E" train --data "$tmp/sh" --tokenizer gpt2 --steps 1 --out "$tmp/r3"
expect_error "tokenize into a directory with shards" "holds token shards already" \
    "$E" tokenize --data "$tmp/a.txt" --tokenizer "$tmp/tok" --out "$tmp/sh"
mkdir "$tmp/bad" && cp "$tmp/sh"/*.bin "$tmp/bad/"
printf 'XXXX' | dd of="$tmp/bad/shard_train_000001.bin" bs=1 conv=notrunc 2>/dev/null
expect_error "a shard with a bad magic" "shard_train_000001.bin: header\[0\] (magic)" \
    "$E" train --data "$tmp/bad" --tokenizer "$tmp/tok" --steps 1 --out "$tmp/r3"
cp "$tmp/sh/shard_train_000001.bin" "$tmp/bad/"
truncate -s -2 "$tmp/bad/shard_train_000001.bin"
expect_error "a truncated shard" "shard_train_000001.bin: .* bytes, expected .*truncated" \
    "$E" train --data "$tmp/bad" --tokenizer "$tmp/tok" --steps 1 --out "$tmp/r3"
expect_error "tokenize --data without --out" "needs --out DIR" \
    "$E" tokenize --data "$tmp/a.txt" --tokenizer "$tmp/tok"
exit $fail
