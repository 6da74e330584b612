#!/bin/sh
# End to end: emergent tokenize (GPT-2's ids, decode), emergent bpe train, and train
# --tokenizer DIR|gpt2 stored with the checkpoint so that generate and info use it; the
# errors a user meets name the file and the field.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp

printf 'Hello world' | "$E" tokenize --tokenizer gpt2 --print >"$tmp/ids" 2>"$tmp/err" \
    && [ "$(cat "$tmp/ids")" = "15496,995" ] && ok "tokenize --print: Hello world -> 15496,995" \
    || bad "tokenize: $(cat "$tmp/ids" "$tmp/err")"
printf '15496, 995,\n50256' | "$E" tokenize --decode >"$tmp/text" 2>"$tmp/err" \
    && [ "$(cat "$tmp/text")" = "Hello world<|endoftext|>" ] && ok "tokenize --decode" \
    || bad "decode: $(cat "$tmp/text" "$tmp/err")"
"$E" tokenize --help | grep -q -- '--tokenizer' && ok "tokenize --help" || bad "tokenize --help"
"$E" bpe --help | grep -q 'bpe train' && ok "bpe --help" || bad "bpe --help"
expect_error "tokenize: an id outside the vocabulary" "stdin: id 1 (\"50257\"): expected an integer in \[0, 50257)" \
    sh -c "printf '1,50257' | '$E' tokenize --decode"
expect_error "tokenize: a directory without tokenizer files" "$tmp: no tokenizer: expected vocab.json and merges.txt" \
    "$E" tokenize --tokenizer "$tmp" --input tests/data/bpe_corpus.txt
expect_error "tokenize --tokenizer char is refused" "char tokenizer is built from a training text" \
    "$E" tokenize --tokenizer char --input tests/data/bpe_corpus.txt

head -c 60000 data/tinyshakespeare.txt >"$tmp/s.txt"
"$E" bpe train --data "$tmp/s.txt" --vocab-size 300 --out "$tmp/tok" >"$tmp/out" 2>"$tmp/err" \
    && grep -q '^300 tokens' "$tmp/out" && grep -q 'bpe train' "$tmp/err" \
    && head -1 "$tmp/tok/merges.txt" | grep -q '^#version: 0.2$' && [ "$(wc -l <"$tmp/tok/merges.txt")" = 44 ] \
    && ok "bpe train: 300 tokens (43 merges), progress on stderr" || bad "bpe train: $(cat "$tmp/out" "$tmp/err")"
"$E" bpe train --data "$tmp/s.txt" --vocab-size 300 --out "$tmp/tok2" --quiet >/dev/null 2>&1
cmp -s "$tmp/tok/vocab.json" "$tmp/tok2/vocab.json" && cmp -s "$tmp/tok/merges.txt" "$tmp/tok2/merges.txt" \
    && ok "bpe train is deterministic" || bad "bpe train: two runs differ"
ls "$tmp/tok" | grep -q tmp && bad "bpe train left a temporary file" || ok "bpe train: no temporary file left"
expect_error "bpe train: vocabulary too small" "vocab-size" "$E" bpe train --data "$tmp/s.txt" --vocab-size 100 --out "$tmp/x"
expect_error "bpe train: missing data file" "$tmp/none.txt" "$E" bpe train --data "$tmp/none.txt" --vocab-size 300 --out "$tmp/x"
printf '#version: 0.2\n\304\240 t\nzz q\n' >"$tmp/bad_merges.txt"
mkdir -p "$tmp/badtok" && cp "$tmp/tok/vocab.json" "$tmp/badtok/" && cp "$tmp/bad_merges.txt" "$tmp/badtok/merges.txt"
expect_error "a merges file with an unknown symbol: file and line" "badtok/merges.txt: line 3: \"zz q\": \"zz\" is not in the vocabulary" \
    "$E" tokenize --tokenizer "$tmp/badtok" --input "$tmp/s.txt"

# a tiny model on the trained tokenizer: trains, saves it with the checkpoint, generates
TINY="--n-layer 1 --n-head 2 --n-embd 16 --block-size 16 --batch-size 2 --steps 3 --eval-every 3 --eval-iters 1 --quiet"
"$E" train --data "$tmp/s.txt" --tokenizer "$tmp/tok" --out "$tmp/run" $TINY >"$tmp/out" 2>"$tmp/err" \
    && grep -q 'vocab 300' "$tmp/out" && ok "train --tokenizer DIR: vocab 300" || bad "train: $(cat "$tmp/out" "$tmp/err")"
"$E" info "$tmp/run/model.safetensors" >"$tmp/info" 2>&1 && grep -q 'bpe (300 symbols)' "$tmp/info" \
    && ok "info: the stored tokenizer is bpe (300 symbols)" || bad "info: $(cat "$tmp/info")"
rm -rf "$tmp/tok"  # the checkpoint carries the tokenizer: the directory is no longer needed
"$E" generate --model "$tmp/run" --prompt "ROMEO: don't" --max-new 20 --seed 1 >"$tmp/gen" 2>"$tmp/err" \
    && grep -q "^ROMEO: don't" "$tmp/gen" && ok "generate with the checkpoint's BPE tokenizer" \
    || bad "generate: $(cat "$tmp/gen" "$tmp/err")"
"$E" train --resume "$tmp/run" --steps 4 --quiet >"$tmp/out" 2>"$tmp/err" \
    && grep -q 'resuming' "$tmp/out" && ok "resume keeps the BPE tokenizer" || bad "resume: $(cat "$tmp/out" "$tmp/err")"
expect_error "resume refuses --tokenizer" "a resumed run keeps the tokenizer stored in $tmp/run/model.safetensors" \
    "$E" train --resume "$tmp/run" --tokenizer gpt2 --steps 5
expect_error "train --tokenizer with --task" "--task trains on the char tokenizer only" \
    "$E" train --task add:2 --tokenizer gpt2 --out "$tmp/t" $TINY
expect_error "train --tokenizer: a directory without files" "$tmp/nothing: no tokenizer" \
    "$E" train --data "$tmp/s.txt" --tokenizer "$tmp/nothing" --out "$tmp/t" $TINY

# GPT-2's tokenizer on a tiny model: 50,257 rows
"$E" train --data "$tmp/s.txt" --tokenizer gpt2 --out "$tmp/g" $TINY >"$tmp/out" 2>"$tmp/err" \
    && grep -q 'vocab 50257' "$tmp/out" && ok "train --tokenizer gpt2: vocab 50257" || bad "gpt2: $(cat "$tmp/out" "$tmp/err")"
"$E" generate --model "$tmp/g" --prompt "Hello" --max-new 5 --seed 1 >"$tmp/gen" 2>"$tmp/err" \
    && grep -q '^Hello' "$tmp/gen" && ok "generate with GPT-2's tokenizer from the checkpoint" \
    || bad "generate gpt2: $(cat "$tmp/err")"
exit $fail
