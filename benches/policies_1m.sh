#!/usr/bin/env bash
# The policies benchmark (benches/policies.rs) at 1,000,000 rows, before and after: the
# BENCHMARKS.md section "Policies at 1,000,000 rows: schema 1.11.0 (one site per statement)
# against c5636ff (issue 11)", end to end and rerunnable.
#
#   benches/policies_1m.sh                 # everything: cluster build seed runs summary explain
#   benches/policies_1m.sh runs summary    # some steps only, in the order given
#   AFTER_TREE=/path/to/a/newer/checkout benches/policies_1m.sh after
#                                          # rerun the after side with newer code (see below)
#
# Steps:
#   cluster       a throwaway PostgreSQL 15 cluster in $PGROOT (port $PORT, socket dir $PGROOT,
#                 owner: the superuser `postgres`, trusted over the socket, no TCP), run by the
#                 `postgres` OS user, with the embedded cluster's settings; started if it exists
#   build         build-before build-after: `cargo build --release --offline --bin ifind` and
#                 `cargo bench --offline --bench policies --no-run` in each tree (created with
#                 `git worktree add` at $BEFORE_REV / $AFTER_REV when missing; an existing tree
#                 is built as it is checked out), then the two executables are copied to
#                 $BIN/SIDE so that the trees' target/ folders can be deleted
#   seed          seed-before seed-after: database before1m / after1m (re)created and filled by
#                 that side's own binary (`ifind seed --sites 200 --interactions 1000000
#                 --seed 1`, timed), then `VACUUM ANALYZE`
#   runs          $ROUNDS rounds of before then after: the policies bench
#                 (`--url <owner URL of the side's database> --reps $REPS`), i.e. the executable
#                 `cargo bench --offline --bench policies` runs, with the load average before
#                 and after each run; output in $OUT/run-SIDE-ROUND.txt
#   summary       $OUT/summary.md: per class the mean over the rounds of each side's p50/p95,
#                 policies on and off, and after/before
#   explain       EXPLAIN (ANALYZE, BUFFERS) of the Finder's statements on the largest and the
#                 typical site of after1m, as ifind_app acting as a viewer (tests/oracle.rs,
#                 explain_the_finder_statements; needs the after tree's sources and cargo)
#   after         build-after seed-after runs summary explain: the after side rebuilt from
#                 what $AFTER_TREE has checked out, its database reseeded, and both sides run
#                 again interleaved (the before side from its saved executables and database)
#   stop          stop the cluster
#
# Environment (defaults): BEFORE_REV=c5636ff AFTER_REV=main BEFORE_TREE=/work/wt-before
# AFTER_TREE=/work/wt-after PGBIN=/usr/lib/postgresql/15/bin PGROOT=/tmp/bench1m PORT=5499
# SITES=200 ROWS=1000000 SEED=1 REPS=10 ROUNDS=2 OUT=$PGROOT/results BEFORE_DB=before1m
# AFTER_DB=after1m BIN=$PGROOT/bin. Run as root (the server
# runs as `postgres` through runuser) or as the `postgres` OS user; $PGROOT must be reachable by
# `postgres` (not under /root).
set -euo pipefail

REPO=${REPO:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
BEFORE_REV=${BEFORE_REV:-c5636ff}
AFTER_REV=${AFTER_REV:-main}
BEFORE_TREE=${BEFORE_TREE:-/work/wt-before}
AFTER_TREE=${AFTER_TREE:-/work/wt-after}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGROOT=${PGROOT:-/tmp/bench1m}
PORT=${PORT:-5499}
SITES=${SITES:-200}
ROWS=${ROWS:-1000000}
SEED=${SEED:-1}
REPS=${REPS:-10}
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-$PGROOT/results}
BEFORE_DB=${BEFORE_DB:-before1m}
AFTER_DB=${AFTER_DB:-after1m}
BIN=${BIN:-$PGROOT/bin}

say() { printf '%s %s\n' "$(date '+%H:%M:%S')" "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' /; }
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
url() { echo "postgres://postgres@localhost:$PORT/$1?host=$PGROOT"; }
psql_owner() { "$PGBIN/psql" -X -v ON_ERROR_STOP=1 "host=$PGROOT port=$PORT user=postgres dbname=$1" "${@:2}"; }
tree_of() { if [ "$1" = before ]; then echo "$BEFORE_TREE"; else echo "$AFTER_TREE"; fi; }
rev_of() { if [ "$1" = before ]; then echo "$BEFORE_REV"; else echo "$AFTER_REV"; fi; }
db_of() { if [ "$1" = before ]; then echo "$BEFORE_DB"; else echo "$AFTER_DB"; fi; }

cluster() {
    if as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; then
        say "cluster: running in $PGROOT"
        return
    fi
    if [ ! -d "$PGROOT/data" ]; then
        mkdir -p "$PGROOT"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGROOT"
        chmod 700 "$PGROOT"
        as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >/dev/null
        # The embedded cluster's settings (src/db/cluster.rs), socket only.
        as_pg tee -a "$PGROOT/data/postgresql.conf" >/dev/null <<EOF
# benches/policies_1m.sh
listen_addresses = ''
port = $PORT
unix_socket_directories = '$PGROOT'
max_connections = 50
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 512MB
effective_cache_size = 4GB
random_page_cost = 1.1
max_wal_size = 2GB
EOF
    fi
    as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w start >/dev/null
    say "cluster: started in $PGROOT ($("$PGBIN/postgres" --version))"
}

build_side() {
    local side=$1 tree rev bin exe
    tree=$(tree_of "$side")
    rev=$(rev_of "$side")
    if [ ! -e "$tree/.git" ]; then
        git -C "$REPO" worktree add --detach "$tree" "$rev"
    fi
    say "build $side: $(git -C "$tree" log -1 --format='%h %s' | cut -c1-100)"
    local started=$SECONDS
    (cd "$tree" && cargo build --release --offline --bin ifind)
    exe=$(cd "$tree" && cargo bench --offline --bench policies --no-run --message-format=json \
        2>/dev/null | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
    [ -x "$exe" ] || { say "build $side: no bench executable"; exit 1; }
    bin="$BIN/$side"
    mkdir -p "$bin"
    cp "$tree/target/release/ifind" "$bin/ifind"
    cp "$exe" "$bin/policies"
    git -C "$tree" log -1 --format='%h %s' >"$bin/commit"
    say "build $side: $((SECONDS - started)) s; executables in $bin"
}

seed_side() {
    local side=$1 db
    db=$(db_of "$1")
    mkdir -p "$OUT" "$PGROOT/xdg"
    psql_owner postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    say "seed $side: $(cat "$BIN/$side/commit" | cut -c1-80)"
    local t0 t1 t2
    t0=$(date +%s.%N)
    # Only the URL (IFIND_DATABASE_URL, the owner's); no config file, logs under $PGROOT/xdg.
    env -u DATABASE_URL -u IFIND_OWNER_URL -u IFIND_READ_URLS \
        XDG_CONFIG_HOME="$PGROOT/xdg/config" XDG_STATE_HOME="$PGROOT/xdg/state" \
        XDG_DATA_HOME="$PGROOT/xdg/data" IFIND_DATABASE_URL="$(url "$db")" \
        "$BIN/$side/ifind" seed --sites "$SITES" --interactions "$ROWS" --seed "$SEED" \
        | tee "$OUT/seed-$side.txt"
    t1=$(date +%s.%N)
    psql_owner "$db" -qc "VACUUM ANALYZE"
    t2=$(date +%s.%N)
    {
        echo "commit: $(cat "$BIN/$side/commit")"
        printf 'seed wall time: %.1f s\nVACUUM ANALYZE: %.1f s\n' \
            "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
        echo "load average after: $(load)"
        psql_owner "$db" -Atc "SELECT 'database size: ' || pg_size_pretty(pg_database_size(current_database()))"
    } | tee -a "$OUT/seed-$side.txt"
}

run_side() {
    local side=$1 round=$2 file="$OUT/run-$1-$2.txt" started=$SECONDS
    say "run $side $round (load $(load))"
    {
        echo "# side $side, round $round: $(cat "$BIN/$side/commit" | cut -c1-100)"
        echo "# started $(date -Is), load average $(load)"
        # What `cargo bench --offline --bench policies -- ARGS` runs: the bench executable with
        # --bench ARGS.
        "$BIN/$side/policies" --bench --url "$(url "$(db_of "$side")")" --reps "$REPS"
        echo "# ended $(date -Is), load average $(load)"
    } >"$file"
    say "run $side $round: $((SECONDS - started)) s (load $(load))"
}

runs() {
    mkdir -p "$OUT"
    local r old
    # The runs of an earlier invocation move aside (the summary reads this one's only).
    if compgen -G "$OUT/run-*.txt" >/dev/null; then
        old="$OUT/previous-$(date +%Y%m%d-%H%M%S)"
        mkdir -p "$old"
        mv "$OUT"/run-*.txt "$old"/
        cp "$OUT"/summary*.md "$old"/ 2>/dev/null || true
        say "runs: the earlier runs moved to $old"
    fi
    for r in $(seq 1 "$ROUNDS"); do
        run_side before "$r"
        run_side after "$r"
    done
}

summary() {
    local files=() r side
    for r in $(seq 1 100); do
        for side in before after; do
            [ -f "$OUT/run-$side-$r.txt" ] && files+=("$OUT/run-$side-$r.txt")
        done
    done
    # Rows of the bench: site user class sort on50 on95 off50 off95 on/off pair.
    awk -v rounds="$ROUNDS" '
        FNR == 1 { side = (FILENAME ~ /run-before-/) ? "b" : "a"; runs[side]++ }
        /^# started/ { load[side] = load[side] " " $NF }
        ($1 == "largest" || $1 == "typical") && NF == 10 && ($2 == "viewer" || $2 == "admin") {
            k = $1 "|" $2 "|" $3 "|" $4
            if (!(k in seen)) { seen[k] = 1; order[++n] = k }
            for (i = 5; i <= 8; i++) sum[side, k, i] += $i
            cnt[side, k]++
        }
        /^all searches/ { all[side] = all[side] "\n- " side ": " $0 }
        function m(s, k, i) { return cnt[s, k] ? sum[s, k, i] / cnt[s, k] : 0 }
        # The median of x[1..c] (sorted in place), with its min and max.
        function med(x, c,    i, j, t) {
            for (i = 2; i <= c; i++) {
                t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t
            }
            if (c == 0) return "-"
            return sprintf("%.2f (min %.2f, max %.2f)", (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2, x[1], x[c])
        }
        END {
            print "| site | user | class | sort | on p50 before | on p50 after | after/before | on p95 before | on p95 after | off p50 before | off p50 after | after/before | off p95 before | off p95 after |"
            print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
            for (j = 1; j <= n; j++) {
                k = order[j]; split(k, f, "|")
                rb = m("b", k, 5) ? m("a", k, 5) / m("b", k, 5) : 0
                ro = m("b", k, 7) ? m("a", k, 7) / m("b", k, 7) : 0
                if (rb > 0) ron[++non] = rb
                if (ro > 0) roff[++noff] = ro
                printf "| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                    f[1], f[2], f[3], f[4], m("b", k, 5), m("a", k, 5), rb, m("b", k, 6), m("a", k, 6),
                    m("b", k, 7), m("a", k, 7), ro, m("b", k, 8), m("a", k, 8)
            }
            printf "\nMedian after/before over the %d classes: on p50 %s; off p50 %s.\n", n,
                med(ron, non), med(roff, noff)
            printf "\nruns: before %d, after %d (means over the runs); load average at the start of each run: before%s; after%s\n",
                runs["b"], runs["a"], load["b"], load["a"]
            print "\nThe bench'"'"'s own totals per run (b = before, a = after):" all["b"] all["a"]
        }' "${files[@]}" >"$OUT/summary.md"
    # Each run's on p50 side by side, for the spread between runs.
    awk '
        FNR == 1 {
            col++; r = FILENAME; sub(/.*-/, "", r); sub(/\.txt$/, "", r)
            hdr = hdr " | " (FILENAME ~ /run-before-/ ? "before" : "after") " " r
        }
        ($1 == "largest" || $1 == "typical") && NF == 10 {
            k = $1 " " $2 " " $3 " " $4
            if (!(k in seen)) { seen[k] = 1; order[++n] = k }
            v[k, col] = $5
        }
        END {
            print "| class (on p50, ms)" hdr " |"
            s = "|---"; for (c = 1; c <= col; c++) s = s "|---"; print s "|"
            for (j = 1; j <= n; j++) {
                line = "| " order[j]
                for (c = 1; c <= col; c++) line = line " | " v[order[j], c]
                print line " |"
            }
        }' "${files[@]}" >"$OUT/summary-runs.md"
    say "summary: $OUT/summary.md, $OUT/summary-runs.md"
    cat "$OUT/summary.md"
}

explain() {
    mkdir -p "$OUT"
    local site
    for site in largest typical; do
        say "explain: the Finder's statements on $AFTER_DB's $site site, as a viewer"
        (cd "$AFTER_TREE" && IFIND_EXPLAIN_URL="$(url "$AFTER_DB")" IFIND_EXPLAIN_SITE=$site \
            cargo test --release --offline --test oracle -- --ignored --nocapture --exact \
            explain_the_finder_statements) >"$OUT/explain-after-$site.txt"
        say "explain: $OUT/explain-after-$site.txt"
    done
}

stop() { as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop; }

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(cluster build seed runs summary explain)
for step in "${steps[@]}"; do
    case $step in
        cluster) cluster ;;
        build) build_side before; build_side after ;;
        build-before | build-after) build_side "${step#build-}" ;;
        seed) cluster; seed_side before; seed_side after ;;
        seed-before | seed-after) cluster; seed_side "${step#seed-}" ;;
        runs) cluster; runs ;;
        summary) summary ;;
        explain) cluster; explain ;;
        after) cluster; build_side after; seed_side after; runs; summary; explain ;;
        stop) stop ;;
        *) echo "unknown step $step (cluster build seed runs summary explain after stop)" >&2; exit 2 ;;
    esac
done
