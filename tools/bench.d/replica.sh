# shellcheck shell=bash
# tools/bench --replica: the replicas' figures (issue 15), ratios measured in the same run.
#   - the log's size and the backup's replay lag, from the primary's own report
#   - failover: from kill -9 of an idle primary (the demo waiting for input) to the backup's
#     "live at step" line, polled every 10 ms, and the backup's own figure after detection
#   - migration: the source's stop-to-handover time and the target's handover-to-live time
#   - join by state transfer: the demo run alone for a while, then a backup joins it; with --linux
#     also Linux (tools/guests/linux) at its shell prompt
#   - primary alone (no backup) and primary + backup against `record` alone, on bench.elf and on a
#     console-heavy guest (tools/bench.d/chatter, built here), whose console a plain-console client
#     reads (and checks against record's)
#   - the primary's own CPU against record's, both pinned to core 0 with taskset and run side by
#     side (the same contention for both), the backup on core 1, with the default lag bounds and
#     with the primary never waiting for its backup; as whole runs (the issue's figure) and start-up
#     corrected: both less their CPU on hello.elf (the fixed cost: start-up, the backup's
#     connection, the end), which is reported on its own, as tools/bench does against QEMU
#   - with --replica on a root host where `ip netns` works, the throughput and failover figures
#     again with primary and backup in two network namespaces joined by a veth pair (the TCP path
#     two hosts would use; the same cores, and no added delay: tc netem needs sch_netem)
# Both replicas share this machine's cores, so the slowdown includes the backup's replay
# competing with the primary; on two hosts it would not. CPU time (user+sys, /usr/bin/time) is
# reported beside wall time, so the primary's own cost can be told from the competition.

replica_section() {
    local key_home="$work/replica-config" arb="file:$work/replica-arbiter" demo="$root/tools/guests/elf/demo.elf"
    mkdir -p "$key_home"
    export XDG_CONFIG_HOME="$key_home"
    local timing=(--heartbeat-interval 25 --heartbeat-timeout 150)
    # Where the backup listens and how processes are started: 127.0.0.1 on this host, or (two_ns)
    # the backup in namespace rvb at 10.215.0.2 and the primary in rva.
    local backup_host=127.0.0.1 in_a=() in_b=()
    start_backup() { # TAG [extra...]: starts a backup, sets backup_pid, backup_log, backup_console; BACKUP_TIMED=FILE wraps it in /usr/bin/time
        local tag="$1"; shift
        local timed=()
        [ -z "${BACKUP_TIMED:-}" ] || timed=(/usr/bin/time -f "%e %U %S" -o "$BACKUP_TIMED")
        # Tags repeat across sections: a stale file must not be read before the new process truncates it.
        rm -f "$work/$tag.err"
        "${in_b[@]}" "${timed[@]}" "$replayvm" backup --listen "$backup_host:0" --console-listen "$backup_host:0" --arbiter "$arb" "${timing[@]}" --linger 0 "$@" \
            >/dev/null 2>"$work/$tag.err" &
        backup_pid=$!
        local tries=0
        until grep -q "backup console listening" "$work/$tag.err" 2>/dev/null; do
            sleep 0.01; tries=$((tries + 1)); [ "$tries" -lt 3000 ] || die "backup did not start: $(cat "$work/$tag.err")"
        done
        backup_log=$(sed -n 's/.*backup listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/$tag.err")
        backup_console=$(sed -n 's/.*backup console listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/$tag.err")
    }
    wait_line() { # FILE PATTERN: polls every 10 ms, up to 120 s
        local tries=0
        until grep -q "$2" "$1" 2>/dev/null; do sleep 0.01; tries=$((tries + 1)); [ "$tries" -lt 12000 ] || die "no '$2' in $1: $(cat "$1")"; done
    }
    summary() { sort -n | awk '{ t[NR] = $1 } END { printf "%.1f %.1f %.1f\n", (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2, t[1], t[NR] }'; }
    summary3() { sort -n | awk '{ t[NR] = $1 } END { printf "%.3f %.3f %.3f\n", (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2, t[1], t[NR] }'; }

    cpu() { awk '{ printf "%.0f", ($2 + $3) * 1000 }' "$1"; } # ms of user+sys CPU from /usr/bin/time -f "%e %U %S" (last line)
    # The console-heavy guest: 2000 bursts of 16 lines (1.8 MB of console output) with short busy pauses.
    local chatter="$work/chatter.elf" src="$root/tools/bench.d/chatter"
    riscv64-unknown-elf-gcc -march=rv64imac -mabi=lp64 -O1 -nostdlib -nostartfiles -static -mcmodel=medany -Wl,--no-warn-rwx-segments \
        -DBURSTS=2000 -T "$src/chatter.ld" "$src/start.S" "$src/chatter.c" -o "$chatter" || die "cannot build the console-heavy guest (riscv64-unknown-elf-gcc)"
    local token; token=$("$replayvm" console --print-token) || die "replayvm console --print-token failed"
    run_primary() { # TAG GUEST [extra...]: a primary (the backup, if any, is started) with a plain console client reading its output; sets pri_ms
        local tag="$1" guest="$2"; shift 2
        local start end tries=0 port
        rm -f "$work/$tag.err"
        start=$(now_ns)
        "${in_a[@]}" /usr/bin/time -f "%e %U %S" -o "$work/t-$tag" "$replayvm" primary --arbiter "$arb" "${timing[@]}" --linger 30 \
            --plain-console-listen 127.0.0.1:0 "$@" "$guest" </dev/null >/dev/null 2>"$work/$tag.err" &
        local ppid=$!
        until port=$(sed -n 's/.*primary plain console listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$tag.err" 2>/dev/null) && [ -n "$port" ]; do
            kill -0 "$ppid" 2>/dev/null || die "primary $tag exited: $(cat "$work/$tag.err")"
            sleep 0.005; tries=$((tries + 1)); [ "$tries" -lt 6000 ] || die "primary did not start: $(cat "$work/$tag.err")"
        done
        # The client reads the whole console from offset 0 (however late it attaches) and closes once the run has ended.
        "${in_a[@]}" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "$2" >&3 && cat <&3 >"$3"' _ "$port" "$token" "$work/$tag.out" &
        local cpid=$!
        wait "$ppid" || die "primary $tag failed: $(tail -n 3 "$work/$tag.err")"
        end=$(now_ns)
        wait "$cpid" || true
        pri_ms=$(((end - start) / 1000000))
    }
    throughput() { # LABEL: record alone, primary alone and primary + backup on bench.elf and the console-heavy guest, wall and CPU
        local guest name
        for guest in "$bench_elf" "$chatter"; do
            name=$(basename "$guest")
            echo >&2
            echo "replica ($1): record alone, primary alone, primary + backup on $name, $runs runs each ..." >&2
            local rec="" solo="" pri="" reccpu="" solocpu="" pricpu="" bakcpu="" load="" r_solo="" r_pri="" c_solo="" c_pri=""
            local lagline="" i start end bw="" lagms="" ms bytes lag rec_ms
            for ((i = 1; i <= runs; i++)); do
                load="$load $(cut -d' ' -f1 /proc/loadavg)"
                start=$(now_ns)
                /usr/bin/time -f "%e %U %S" -o "$work/t-rec" "$replayvm" record -o "$work/replica-rec.rvtrace" "$guest" </dev/null >"$work/replica-rec.out" 2>"$work/replica-rec.err"
                end=$(now_ns); rec_ms=$(((end - start) / 1000000)); rec="$rec $rec_ms"; reccpu="$reccpu $(cpu "$work/t-rec")"
                run_primary "replica-s$i"  "$guest"
                solo="$solo $pri_ms"; solocpu="$solocpu $(cpu "$work/t-replica-s$i")"
                cmp -s "$work/replica-rec.out" "$work/replica-s$i.out" || die "primary alone: the console client's output differs from record's"
                BACKUP_TIMED="$work/t-bak" start_backup "replica-b$i"
                run_primary "replica-p$i" "$guest" --backup "$backup_host:$backup_log"
                pri="$pri $pri_ms"; pricpu="$pricpu $(cpu "$work/t-replica-p$i")"
                cmp -s "$work/replica-rec.out" "$work/replica-p$i.out" || die "primary + backup: the console client's output differs from record's"
                wait "$backup_pid" || true
                bakcpu="$bakcpu $(cpu "$work/t-bak")"
                # Ratios within the run (record, then the primaries, back to back).
                r_solo="$r_solo $(ratio "$(echo "$solo" | awk '{ print $NF }')" "$rec_ms")"
                r_pri="$r_pri $(ratio "$pri_ms" "$rec_ms")"
                c_solo="$c_solo $(ratio "$(echo "$solocpu" | awk '{ print $NF }')" "$(echo "$reccpu" | awk '{ print $NF }')")"
                c_pri="$c_pri $(ratio "$(echo "$pricpu" | awk '{ print $NF }')" "$(echo "$reccpu" | awk '{ print $NF }')")"
                lagline=$(grep "backup replay lag" "$work/replica-p$i.err" || true)
                # The log's rate over the primary's whole run, and the median lag in ms as the primary measured it.
                bytes=$(sed -n 's/.*; log \([0-9]*\) bytes.*/\1/p' <<<"$lagline")
                lag=$(sed -n 's/.*in time .*: median \([0-9.]*\) ms.*/\1/p' <<<"$lagline")
                [ -n "$bytes" ] && bw="$bw $(awk -v b="$bytes" -v m="$pri_ms" 'BEGIN { printf "%.0f", b * 1000 / m }')"
                [ -n "$lag" ] && lagms="$lagms $lag"
            done
            local row='%-44s %10s %8s %8s\n'
            # shellcheck disable=SC2059
            {
            printf "\n$row" "$name, ms ($1)" median min max
            printf "$row" "record alone, wall" $(printf '%s\n' $rec | summary)
            printf "$row" "primary alone (no backup), wall" $(printf '%s\n' $solo | summary)
            printf "$row" "primary + backup, wall" $(printf '%s\n' $pri | summary)
            printf "$row" "record alone, CPU (user+sys)" $(printf '%s\n' $reccpu | summary)
            printf "$row" "primary alone, CPU" $(printf '%s\n' $solocpu | summary)
            printf "$row" "primary (with backup), CPU" $(printf '%s\n' $pricpu | summary)
            printf "$row" "backup, CPU" $(printf '%s\n' $bakcpu | summary)
            printf "$row" "ratio primary alone / record, wall" $(printf '%s\n' $r_solo | summary3)
            printf "$row" "ratio primary + backup / record, wall" $(printf '%s\n' $r_pri | summary3)
            printf "$row" "ratio primary alone / record, CPU" $(printf '%s\n' $c_solo | summary3)
            printf "$row" "ratio primary (with backup) / record, CPU" $(printf '%s\n' $c_pri | summary3)
            printf "$row" "load average (1 min) at each run's start" $(printf '%s\n' $load | summary)
            printf "$row" "log bandwidth, bytes/s" $(printf '%s\n' $bw | summary)
            printf "$row" "backup lag in time (median per run), ms" $(printf '%s\n' $lagms | summary)
            }
            printf 'last run: %s\n' "${lagline#replayvm: }"
        done
    }
    throughput "one host, loopback"

    # cpu_of FILE CMD...: runs CMD (redirect around the call), then writes its CPU time (user + system,
    # ms to three places) to FILE. From the shell's own account of its children (getrusage, to the
    # microsecond), not /usr/bin/time, whose 10 ms steps are 3% of a half-second run.
    cpu_of() {
        local out="$1"; shift
        # `times` itself, not in a pipeline: a pipeline's side is a new process, without these children.
        ( "$@" && status=0 || status=$?; times >"$out.times"; exit $status ) || return
        awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }' "$out.times" >"$out"
    }
    pair_on_core0() { # TAG GUEST [primary options...]: record and the primary side by side on core 0, the backup on core 1; sets rec_cpu, pri_cpu, bak_cpu (ms)
        local tag="$1" guest="$2"; shift 2
        local rpid ppid
        in_b=(taskset -c 1)
        BACKUP_TIMED="$work/t-$tag-bak" start_backup "replica-$tag-b"
        in_b=()
        cpu_of "$work/c-$tag-rec" taskset -c 0 "$replayvm" record -o "$work/replica-$tag-rec.rvtrace" "$guest" </dev/null >/dev/null 2>"$work/replica-$tag-rec.err" &
        rpid=$!
        cpu_of "$work/c-$tag-pri" taskset -c 0 "$replayvm" primary --backup "127.0.0.1:$backup_log" --arbiter "$arb" "${timing[@]}" \
            --linger 0 -o "$work/replica-$tag-pri.rvtrace" "$@" "$guest" </dev/null >/dev/null 2>"$work/replica-$tag-pri.err" &
        ppid=$!
        wait "$rpid" || die "record failed: $(tail -n 3 "$work/replica-$tag-rec.err")"
        wait "$ppid" || die "primary failed: $(tail -n 3 "$work/replica-$tag-pri.err")"
        wait "$backup_pid" || true
        rec_cpu=$(cat "$work/c-$tag-rec") pri_cpu=$(cat "$work/c-$tag-pri") bak_cpu=$(cpu "$work/t-$tag-bak")
    }
    own_cpu() { # the primary's own CPU against record's: both on core 0 at the same time, the backup on core 1 (its replay off the primary's core)
        # Run side by side, record and the primary share core 0 and whatever else runs there at
        # that moment, so the other work on a shared machine slows both alike: run one after the
        # other, the same record varied by up to 1.5x from run to run at load 15-25.
        # The fixed cost first: both on hello.elf, a guest that does next to nothing, so what each
        # spends is its start-up and end (the runtime, the machine's build, and for the primary the
        # backup's connection, .NET's first socket, the arbiter). Subtracted from a run on the
        # benchmark, what is left is the steady state: the guest's running, with the log and its
        # acknowledgements for the primary.
        echo "replica: the fixed cost, record and primary side by side on core 0 on hello.elf, backup on core 1, $runs runs ..." >&2
        local hrec="" hpri="" hdiff="" hload="" i
        for ((i = 1; i <= runs; i++)); do
            hload="$hload $(cut -d' ' -f1 /proc/loadavg)"
            pair_on_core0 "oh$i" "$hello_elf"
            hrec="$hrec $rec_cpu" hpri="$hpri $pri_cpu" hdiff="$hdiff $(awk -v p="$pri_cpu" -v r="$rec_cpu" 'BEGIN { printf "%.1f", p - r }')"
        done
        local hrec_med hpri_med
        hrec_med=$(printf '%s\n' $hrec | summary | cut -d' ' -f1) hpri_med=$(printf '%s\n' $hpri | summary | cut -d' ' -f1)
        local row='%-62s %10s %8s %8s\n'
        # shellcheck disable=SC2059,SC2086
        {
        printf "\n$row" "fixed cost (start-up and end), on hello.elf, CPU ms" median min max
        printf "$row" "record on core 0" $(printf '%s\n' $hrec | summary)
        printf "$row" "primary beside it (backup on core 1)" $(printf '%s\n' $hpri | summary)
        printf "$row" "fixed cost: primary - record (per run)" $(printf '%s\n' $hdiff | summary)
        printf "$row" "load average (1 min) at each run's start" $(printf '%s\n' $hload | summary)
        }
        local guest name pass extra
        for guest in "$bench_elf" "$chatter"; do
            name=$(basename "$guest")
            for pass in default nowait; do
                extra=(); [ "$pass" = default ] || extra=(--max-lag-ms 100000 --max-lag 100000000000000)
                echo "replica: the primary's own CPU on $name ($pass lag bound), record and primary side by side on core 0, backup on core 1, $runs runs ..." >&2
                local reccpu="" pricpu="" bakcpu="" ratios="" steady="" load=""
                for ((i = 1; i <= runs; i++)); do
                    load="$load $(cut -d' ' -f1 /proc/loadavg)"
                    pair_on_core0 "o$i" "$guest" "${extra[@]}"
                    reccpu="$reccpu $rec_cpu"; pricpu="$pricpu $pri_cpu"; bakcpu="$bakcpu $bak_cpu"
                    ratios="$ratios $(ratio "$pri_cpu" "$rec_cpu")"
                    steady="$steady $(ratio "$(awk -v a="$pri_cpu" -v b="$hpri_med" 'BEGIN { print a - b }')" "$(awk -v a="$rec_cpu" -v b="$hrec_med" 'BEGIN { print a - b }')")"
                done
                # shellcheck disable=SC2059,SC2086
                {
                printf "\n$row" "$name, primary's own CPU ($pass lag bound), ms" median min max
                printf "$row" "record on core 0, CPU" $(printf '%s\n' $reccpu | summary)
                printf "$row" "primary beside it on core 0 (backup on core 1), CPU" $(printf '%s\n' $pricpu | summary)
                printf "$row" "backup on core 1, CPU" $(printf '%s\n' $bakcpu | summary)
                printf "$row" "ratio primary / record, CPU (per run): whole runs" $(printf '%s\n' $ratios | summary3)
                printf "$row" "ratio minus hello's CPU (per run): steady state" $(printf '%s\n' $steady | summary3)
                printf "$row" "load average (1 min) at each run's start" $(printf '%s\n' $load | summary)
                }
            done
        done
        echo "(whole runs: the issue's figure, start-up included; steady state: both runs less their median on hello.elf, the fixed cost above)"
    }
    if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
        own_cpu
    else
        echo "replica: no primary's-own-CPU figures (needs taskset and two cores)"
    fi

    failover() { # LABEL
    echo "replica ($1): failover from kill -9 of an idle primary, $runs times ..." >&2
    # On a loaded machine a starved primary can stay silent past the 150 ms timeout while alive: the
    # backup then finds the arbiter held and stops (a false failover, safely refused). Such a run is
    # counted, not timed, and repeated (at most 3x the runs in all).
    local total="" after="" false_alarms=0 refused=0 attempt=0
    i=0
    while [ "$i" -lt "$runs" ] && [ "$attempt" -lt $((3 * runs)) ]; do
        attempt=$((attempt + 1))
        start_backup "replica-fb$attempt"
        rm -f "$work/replica-fp$attempt.err"
        "${in_a[@]}" "$replayvm" primary --backup "$backup_host:$backup_log" --arbiter "$arb" --deterministic "${timing[@]}" --linger 0 "$demo" </dev/null >/dev/null 2>"$work/replica-fp$attempt.err" &
        local ppid=$!
        wait_line "$work/replica-fp$attempt.err" "caught up"
        # Kill a warm pair (both have compiled the guest's code), not one still starting up.
        sleep 2
        if grep -q "this backup stops" "$work/replica-fb$attempt.err"; then
            false_alarms=$((false_alarms + 1))
            echo "replica: before kill -9: $(grep "this backup stops" "$work/replica-fb$attempt.err" | head -n 1)" >&2
        else
            start=$(now_ns)
            # Reaped here, with its stderr, so bash's "Killed" notice does not land in the bench's output.
            { kill -9 "$ppid"; wait "$ppid"; } 2>/dev/null || true
            wait_line "$work/replica-fb$attempt.err" "live at step\|this backup stops"
            end=$(now_ns)
            if grep -q "live at step" "$work/replica-fb$attempt.err"; then
                i=$((i + 1))
                total="$total $(((end - start) / 1000000))"
                after="$after $(sed -n 's/.*live at step [0-9]*, \([0-9.]*\) ms after detecting it.*/\1/p' "$work/replica-fb$attempt.err")"
            else
                refused=$((refused + 1))
                echo "replica: after kill -9: $(grep "this backup stops" "$work/replica-fb$attempt.err" | head -n 1)" >&2
            fi
        fi
        { kill -9 "$ppid"; wait "$ppid"; } 2>/dev/null || true
        kill "$backup_pid" 2>/dev/null || true; wait "$backup_pid" 2>/dev/null || true
    done
    echo "failover ($1): $i timed, $false_alarms false alarms before the kill (backup stopped, arbiter held), $refused stopped after it, in $attempt attempts"
    # shellcheck disable=SC2086
    printf '\n%-34s %10s %8s %8s\n' "failover, ms ($1)" median min max
    # shellcheck disable=SC2086
    printf '%-34s %10s %8s %8s\n' "kill -9 to backup live (polled)" $(printf '%s\n' $total | summary)
    # shellcheck disable=SC2086
    printf '%-34s %10s %8s %8s\n' "  of which after detection" $(printf '%s\n' $after | summary)
    }
    failover "one host, loopback"


    echo "replica: migration of the idle demo, $runs times ..." >&2
    local stop="" live=""
    for ((i = 1; i <= runs; i++)); do
        "$replayvm" primary --console-listen 127.0.0.1:0 --arbiter "$arb" --deterministic "${timing[@]}" --linger 0 "$demo" </dev/null >/dev/null 2>"$work/replica-mp$i.err" &
        local mpid=$!
        wait_line "$work/replica-mp$i.err" "primary console listening"
        local pc; pc=$(sed -n 's/.*primary console listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/replica-mp$i.err")
        start_backup "replica-mb$i"
        # A migration the 150 ms heartbeat timeout breaks on a loaded machine is reported, not timed.
        if "$replayvm" migrate --from "127.0.0.1:$pc" --to "127.0.0.1:$backup_log" 2>"$work/replica-m$i.err"; then
            wait_line "$work/replica-mb$i.err" "took over the guest"
            stop="$stop $(sed -n 's/.*stopped \([0-9.]*\) ms here.*/\1/p' "$work/replica-m$i.err")"
            live="$live $(sed -n 's/.*live \([0-9.]*\) ms after the handover arrived.*/\1/p' "$work/replica-mb$i.err")"
        else
            echo "migration $i failed: $(head -n 1 "$work/replica-m$i.err")"
        fi
        { kill "$mpid"; wait "$mpid"; } 2>/dev/null || true
        kill "$backup_pid" 2>/dev/null || true; wait "$backup_pid" 2>/dev/null || true
    done
    if [ -n "$stop" ]; then
        printf '\n%-34s %10s %8s %8s\n' "migration pause, ms" median min max
        # shellcheck disable=SC2086
        printf '%-34s %10s %8s %8s\n' "source: stop to handover acked" $(printf '%s\n' $stop | summary)
        # shellcheck disable=SC2086
        printf '%-34s %10s %8s %8s\n' "target: handover to live" $(printf '%s\n' $live | summary)
    fi

    echo "replica: join by state transfer after the demo ran alone for 3 s, $runs times ..." >&2
    local jt="" jb="" jp=""
    for ((i = 1; i <= runs; i++)); do
        "$replayvm" primary --console-listen 127.0.0.1:0 --arbiter "$arb" --deterministic "${timing[@]}" --linger 0 "$demo" </dev/null >/dev/null 2>"$work/replica-jp$i.err" &
        local jpid=$!
        wait_line "$work/replica-jp$i.err" "primary console listening"
        local jc; jc=$(sed -n 's/.*primary console listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/replica-jp$i.err")
        sleep 3
        start_backup "replica-jb$i" --join "127.0.0.1:$jc"
        wait_line "$work/replica-jb$i.err" "joined at step"
        jt="$jt $(sed -n 's/.*by state transfer: [0-9]* bytes in \([0-9]*\) ms.*/\1/p' "$work/replica-jb$i.err")"
        jb="$jb $(sed -n 's/.*by state transfer: \([0-9]*\) bytes in.*/\1/p' "$work/replica-jb$i.err")"
        wait_line "$work/replica-jp$i.err" "the guest paused"
        jp="$jp $(sed -n 's/.*the guest paused \([0-9.]*\) ms.*/\1/p' "$work/replica-jp$i.err")"
        printf 'join %d: %s\n' "$i" "$(grep -o 'joined at step.*' "$work/replica-jb$i.err")"
        { kill -9 "$jpid"; wait "$jpid"; } 2>/dev/null || true
        kill "$backup_pid" 2>/dev/null || true; wait "$backup_pid" 2>/dev/null || true
    done
    printf '\n%-40s %10s %8s %8s\n' "join by state transfer" median min max
    # shellcheck disable=SC2086
    printf '%-40s %10s %8s %8s\n' "transfer (log + snapshot), ms" $(printf '%s\n' $jt | summary)
    # shellcheck disable=SC2086
    printf '%-40s %10s %8s %8s\n' "bytes on the wire (before encryption)" $(printf '%s\n' $jb | summary)
    # shellcheck disable=SC2086
    printf '%-40s %10s %8s %8s\n' "primary's pause to snapshot, ms" $(printf '%s\n' $jp | summary)

    # Join by state transfer of Linux at its shell prompt (with --linux: it needs tools/guests/linux/build's kernel).
    if [ "$with_linux" = 1 ]; then
        local paths image initramfs disk
        paths="$("$root/tools/guests/linux/build" --print-paths)" || die "tools/guests/linux/build failed"
        image="$(sed -n 1p <<<"$paths")" initramfs="$(sed -n 3p <<<"$paths")" disk="$(sed -n 4p <<<"$paths")"
        echo "replica: join by state transfer of Linux at its shell prompt, $runs times ..." >&2
        local lt="" lb="" lp="" lpid cpid lport lplain tries
        for ((i = 1; i <= runs; i++)); do
            cp "$disk" "$work/replica-linux$i.img"
            "$replayvm" primary --console-listen 127.0.0.1:0 --plain-console-listen 127.0.0.1:0 --arbiter "$arb" "${timing[@]}" --linger 0 \
                -m 128M --bios "$opensbi" --kernel "$image" --initrd "$initramfs" --append "console=ttyS0 earlycon" \
                --drive "$work/replica-linux$i.img" </dev/null >/dev/null 2>"$work/replica-lp$i.err" &
            lpid=$!
            wait_line "$work/replica-lp$i.err" "primary plain console listening"
            lport=$(sed -n 's/.*primary console listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/replica-lp$i.err")
            lplain=$(sed -n 's/.*primary plain console listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/replica-lp$i.err")
            : >"$work/replica-lc$i.out"
            bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "$2" >&3 && cat <&3 >"$3"' _ "$lplain" "$token" "$work/replica-lc$i.out" &
            cpid=$!
            tries=0
            until grep -q '^# ' "$work/replica-lc$i.out"; do
                sleep 0.05; tries=$((tries + 1)); [ "$tries" -lt 12000 ] || die "Linux under the primary did not reach its prompt in 600 s"
            done
            start_backup "replica-lb$i" --join "127.0.0.1:$lport"
            wait_line "$work/replica-lb$i.err" "joined at step"
            lt="$lt $(sed -n 's/.*by state transfer: [0-9]* bytes in \([0-9]*\) ms.*/\1/p' "$work/replica-lb$i.err")"
            lb="$lb $(sed -n 's/.*by state transfer: \([0-9]*\) bytes in.*/\1/p' "$work/replica-lb$i.err")"
            wait_line "$work/replica-lp$i.err" "the guest paused"
            lp="$lp $(sed -n 's/.*the guest paused \([0-9.]*\) ms.*/\1/p' "$work/replica-lp$i.err")"
            printf 'Linux join %d: %s\n' "$i" "$(grep -o 'with a snapshot at step.*' "$work/replica-lp$i.err")"
            { kill -9 "$lpid"; wait "$lpid"; } 2>/dev/null || true
            { kill "$cpid"; wait "$cpid"; } 2>/dev/null || true
            kill "$backup_pid" 2>/dev/null || true; wait "$backup_pid" 2>/dev/null || true
        done
        printf '\n%-40s %10s %8s %8s\n' "join by state transfer, Linux at its prompt" median min max
        # shellcheck disable=SC2086
        printf '%-40s %10s %8s %8s\n' "transfer (log + snapshot), ms" $(printf '%s\n' $lt | summary)
        # shellcheck disable=SC2086
        printf '%-40s %10s %8s %8s\n' "bytes on the wire (before encryption)" $(printf '%s\n' $lb | summary)
        # shellcheck disable=SC2086
        printf '%-40s %10s %8s %8s\n' "primary's pause to snapshot, ms" $(printf '%s\n' $lp | summary)
    else
        echo "replica: no Linux join figures (add --linux: it needs the kernel tools/guests/linux/build makes)"
    fi

    # Two network namespaces joined by a veth pair: the backup at 10.215.0.2 in rvb, the primary in rva.
    if [ "$(id -u)" = 0 ] && ip netns add rvbench-probe 2>/dev/null; then
        ip netns del rvbench-probe
        ip netns del rva 2>/dev/null || true; ip netns del rvb 2>/dev/null || true
        ip netns add rva && ip netns add rvb
        ip link add rv-a type veth peer name rv-b
        ip link set rv-a netns rva && ip link set rv-b netns rvb
        ip -n rva addr add 10.215.0.1/24 dev rv-a && ip -n rvb addr add 10.215.0.2/24 dev rv-b
        ip -n rva link set rv-a up && ip -n rvb link set rv-b up && ip -n rva link set lo up && ip -n rvb link set lo up
        backup_host=10.215.0.2 in_a=(ip netns exec rva) in_b=(ip netns exec rvb)
        throughput "two network namespaces over veth"
        failover "two network namespaces over veth"
        ip netns del rva; ip netns del rvb
        backup_host=127.0.0.1 in_a=() in_b=()
    else
        echo "replica: no figures over two network namespaces (needs root and 'ip netns')"
    fi
}
