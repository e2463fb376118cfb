# CPU time of the system's processes, read from /proc, for CPU-per-request figures.
# Sourced after stack.sh (needs STATE).
#   cpu_snapshot            prints "name=ticks ..." for every running part
#   cpu_per_request A B N   from two snapshots and a request count: "name=µs ..." per request

CLK_TCK=$(getconf CLK_TCK)

# utime + stime of one pid, in clock ticks (0 if it is gone). The fields after the
# parenthesised command name, which may itself hold spaces.
pid_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo $((${12} + ${13}))
}

# PostgreSQL: the postmaster and every backend and helper process under it.
postgres_ticks() {
    local pidfile="$STATE/postgres/postmaster.pid" total=0 pid
    [ -f "$pidfile" ] || { echo 0; return; }
    local main
    main=$(head -1 "$pidfile")
    for pid in "$main" $(pgrep -P "$main"); do total=$((total + $(pid_ticks "$pid"))); done
    echo "$total"
}

cpu_snapshot() {
    local name file out=""
    for name in HTTPLimit HTTPLimit-nats Gateway Gateway-traced AuthService CustomersService ProductsService ProductsService-2 \
        ProductsService-traced nats-server otlp-receiver; do
        file="$STATE/$name.pid"
        [ -f "$file" ] && out="$out $name=$(pid_ticks "$(cat "$file")")"
    done
    echo "$out postgres=$(postgres_ticks)"
}

cpu_per_request() {
    local before=$1 after=$2 requests=$3 pair name ticks start out=""
    for pair in $after; do
        name=${pair%%=*}
        ticks=${pair#*=}
        start=$(echo " $before " | sed -n "s/.* $name=\([0-9]*\) .*/\1/p")
        [ -n "$start" ] || continue
        out="$out $name=$(((ticks - start) * 1000000 / CLK_TCK / (requests > 0 ? requests : 1)))"
    done
    echo "cpu_us_per_request:$out"
}

# measured_wrk LABEL WRK-ARGS...: one wrk run with every process's CPU around it; prints
# "LABEL: <wrk's line>" and the CPU per request, and leaves the line in LINE and the
# request count in REQUESTS.
measured_wrk() {
    local label=$1 before after
    shift
    before=$(cpu_snapshot)
    LINE=$(wrk "$@" | tail -1)
    after=$(cpu_snapshot)
    REQUESTS=$(echo "$LINE" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    REQUESTS=${REQUESTS:-0}
    echo "$label: $LINE"
    echo "  $(cpu_per_request "$before" "$after" "$REQUESTS")"
}
