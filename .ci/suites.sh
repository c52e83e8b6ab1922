# shellcheck shell=bash
# Sourced by .ci/run and .ci/stress: the README's test command twice at the same time, on
# SQLite + the in-memory bus and on PostgreSQL + Redis. The suites mostly wait (on sockets,
# servers, timers), so both at once take about as long as one, and every run proves that no
# test depends on an idle machine. Each pass writes its own log; the logs are printed when both
# are done, a failed pass last, so that its pytest summary ends the output.
#
# run_suites DATABASE_URL REDIS_URL: returns 1 if either failed, and leaves the names of the
# failed passes in $failed_suites. The caller has unset every CPMS_ variable.

run_pass() {  # LOG, then the environment and command
    local log="$1"
    shift
    local status=0
    "$@" >"$log" 2>&1 || status=$?
    # pytest exits 5 when it collected nothing: for CI that is a broken suite, not a pass.
    if [ "$status" -eq 5 ]; then
        echo "pytest collected no tests" >>"$log"
        status=1
    fi
    return "$status"
}

run_suites() {
    local database_url="$1" redis_url="$2"
    local logs
    logs="$(mktemp -d)"
    local sqlite_status=0 postgres_status=0
    run_pass "$logs/sqlite.log" pytest &
    local sqlite_run=$!
    run_pass "$logs/postgres.log" \
        env CPMS_DATABASE_URL="$database_url" CPMS_REDIS_URL="$redis_url" pytest &
    local postgres_run=$!
    wait "$sqlite_run" || sqlite_status=$?
    wait "$postgres_run" || postgres_status=$?

    failed_suites=""
    local passed=() failed=()
    if [ "$sqlite_status" -eq 0 ]; then passed+=(sqlite); else failed+=(sqlite); fi
    if [ "$postgres_status" -eq 0 ]; then passed+=(postgres); else failed+=(postgres); fi
    local pass
    for pass in "${passed[@]}" "${failed[@]}"; do
        printf '\n--- tests on %s (rc %s) ---\n' \
            "$([ "$pass" = sqlite ] && echo "SQLite + in-memory bus" || echo "PostgreSQL + Redis")" \
            "$([ "$pass" = sqlite ] && echo "$sqlite_status" || echo "$postgres_status")"
        cat "$logs/$pass.log"
    done
    rm -rf "$logs"
    [ "$sqlite_status" -eq 0 ] || failed_suites+="tests on SQLite + in-memory bus"
    if [ "$postgres_status" -ne 0 ]; then
        [ -z "$failed_suites" ] || failed_suites+=" and "
        failed_suites+="tests on PostgreSQL + Redis"
    fi
    [ -z "$failed_suites" ]
}
