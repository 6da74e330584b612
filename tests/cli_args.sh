#!/bin/sh
# Number flags: each value outside its flag's range (or its type's) is refused with one error
# naming the flag and the accepted range, before anything is loaded.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp

expect_error "an integer beyond long long" "train: --steps must be in \[1, 1073741824\], got 99999999999999999999" \
    "$E" train --steps 99999999999999999999
expect_error "an integer above the range" "--steps must be in \[1, 1073741824\], got 1073741825" \
    "$E" train --steps 1073741825
expect_error "not an integer" "--steps expects an integer, got '1e3'" "$E" train --steps 1e3
expect_error "a float beyond double" "--lr must be in \[0, 10\], got 1e400" "$E" train --lr 1e400
expect_error "an infinite float" "--lr must be in \[0, 10\], got -inf" "$E" train --lr -inf
expect_error "NaN" "--lr expects a number, got 'nan'" "$E" train --lr nan
expect_error "a 64-bit seed beyond its range" "eval: --seed must be in \[0, 9.2e+18\], got 99999999999999999999" \
    "$E" eval --seed 99999999999999999999
expect_error "a negative seed" "--seed must be in \[0, 9.2e+18\], got -1" "$E" generate --seed -1
expect_error "a float above the range" "--temperature must be in \[0, 100\], got 1e39" \
    "$E" generate --temperature 1e39

[ $fail = 0 ] && echo "cli_args: all passed"
exit $fail
