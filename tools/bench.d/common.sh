# Helpers shared by the sections of tools/bench (sourced; needs $work and die()).

now_ns() { date +%s%N; }

# ratio A B: A/B to three places, or n/a (every section uses it, --no-speed or not).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.3f", a / b }'; }

# time_cmd TAG CMD...: runs CMD with stdin from /dev/null, stdout/stderr in $work/TAG.{out,err};
# prints the elapsed nanoseconds; fails unless CMD exits 0.
time_cmd() {
    local tag="$1" start end status=0
    shift
    start=$(now_ns)
    "$@" </dev/null >"$work/$tag.out" 2>"$work/$tag.err" || status=$?
    end=$(now_ns)
    if [ "$status" != 0 ]; then
        echo "--- stdout of $*" >&2; tail -n 20 "$work/$tag.out" >&2
        echo "--- stderr" >&2; tail -n 20 "$work/$tag.err" >&2
        die "'$(basename "$1") ${2:-}' exited with status $status"
    fi
    echo $((end - start))
}

# median_ms NS...: the median of nanosecond figures, in milliseconds.
median_ms() {
    printf '%s\n' "$@" | sort -n | awk '
        { t[NR] = $1 / 1e6 }
        END { printf "%.1f\n", (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }'
}

# calc EXPR [VAR=VALUE...]: evaluates an awk expression ("n/a" when an input is not a number).
calc() {
    local expr="$1"; shift
    local assignments=() v
    for v in "$@"; do
        [[ "${v#*=}" =~ ^-?[0-9.]+(e[-+]?[0-9]+)?$ ]] || { echo "n/a"; return; }
        assignments+=(-v "$v")
    done
    awk "${assignments[@]}" "BEGIN { $expr }"
}

file_bytes() { stat -c %s "$1"; }
