# tools/bench --linux (sourced by tools/bench): Linux (tools/guests/linux) booted by OpenSBI
# fw_jump with its initramfs and virtio disk, from process start to the shell's prompt `# `, on
# replayvm, QEMU -icount shift=0 and plain QEMU: wall time, and CPU time of the emulator process
# (user + system, read from /proc just before it is killed at the prompt). The steps to the
# prompt come from `replayvm record` of boot + poweroff (the recording's step count, poweroff
# included: a few hundred thousand more than the prompt itself).
# A second workload, "boot + spawn 200", passes `-- spawn 200` on the kernel command line: before
# its first prompt the guest's init forks 200 times, each child execs /init afresh, faults in fresh
# pages and exits (a process-heavy OS workload: fork, exec, page faults, context switches). A third,
# "boot + spawn 2000", is the same ten times longer (about 1.2e9 steps against 1.2e8): boot and the
# runtimes' start-up are a tenth of it, so it shows what the engines do on an OS's steady work.

linux_section() {
    local paths image initramfs disk cmdline="console=ttyS0 earlycon"
    echo "building or finding the Linux guest (tools/guests/linux/build; the first build takes a while) ..." >&2
    paths="$("$root/tools/guests/linux/build" --print-paths)" || die "tools/guests/linux/build failed"
    image="$(sed -n 1p <<<"$paths")" initramfs="$(sed -n 3p <<<"$paths")" disk="$(sed -n 4p <<<"$paths")"

    # linux_boot_once ENGINE TAG [WORDS]: "WALL_NS CPU_TICKS" from start until the prompt; then killed.
    # WORDS, if given, go after `--` on the kernel command line: a command init runs before the prompt.
    linux_boot_once() {
        local engine="$1" tag="$2" cmdline="$cmdline${3:+ -- $3}" cmd start end pid ticks copy="$work/linux-disk-$2.img"
        cp "$disk" "$copy"
        case "$engine" in
            replayvm) cmd=("$replayvm" run -m 128M --bios "$opensbi" --kernel "$image" --initrd "$initramfs"
                           --append "$cmdline" --drive "$copy" ${vm_engine:+--engine "$vm_engine"}) ;;
            qemu-icount|qemu)
                cmd=("$QEMU" -machine virt -nographic -monitor none -m 128M -smp 1 -bios "$opensbi" -kernel "$image"
                     -initrd "$initramfs" -append "$cmdline" -global virtio-mmio.force-legacy=false
                     -drive "file=$copy,if=none,format=raw,id=hd0" -device virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0
                     -device virtio-rng-device)
                [ "$engine" = qemu ] || cmd+=(-icount shift=0) ;;
        esac
        local out="$work/$tag.out"
        : >"$out"
        start=$(now_ns)
        "${cmd[@]}" </dev/null >"$out" 2>"$work/$tag.err" &
        pid=$!
        local tries=0
        until grep -q '^# ' "$out"; do
            kill -0 "$pid" 2>/dev/null || { tail -n 20 "$out" >&2; die "$engine exited before the Linux prompt"; }
            tries=$((tries + 1))
            [ "$tries" -lt 60000 ] || { kill "$pid"; die "$engine did not reach the Linux prompt within 600 s"; }
            sleep 0.01
        done
        end=$(now_ns)
        # utime + stime (fields 14 and 15 of /proc/PID/stat, after the parenthesised name).
        ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$copy"
        echo "$((end - start)) $ticks"
    }

    local engines=(qemu-icount qemu) hz workload
    [ "$with_replayvm" = 1 ] && engines=(replayvm "${engines[@]}")
    hz=$(getconf CLK_TCK)
    declare -A linux_median linux_cpu
    for workload in "" "spawn 200" "spawn 2000"; do
    printf '\n%s\n%-12s %14s %10s %10s %14s\n' "Linux: boot${workload:+ + $workload}, to the prompt" engine "prompt ms med" "min" "max" "CPU s med"
    # Round by round, each engine once per round: the host's own speed drifts by a third within
    # minutes (and QEMU -icount's CPU time on this workload is bimodal, ~1.35 s or ~2.1 s), so
    # engines timed one block after another compared different hosts; per-round ratios do not.
    echo "booting Linux${workload:+ with $workload} to its prompt on ${engines[*]}, alternating, $runs rounds ..." >&2
    local -A walls=() cpus=()
    local wall cpu
    for ((i = 1; i <= runs; i++)); do
        for engine in "${engines[@]}"; do
            read -r wall cpu < <(linux_boot_once "$engine" "$engine-linux-$i" "$workload")
            walls[$engine]="${walls[$engine]:-} $wall" cpus[$engine]="${cpus[$engine]:-} $cpu"
        done
    done
    for engine in "${engines[@]}"; do
        # shellcheck disable=SC2086
        read -r med min max < <(printf '%s\n' ${walls[$engine]} | sort -n | awk '
            { t[NR] = $1 / 1e6 }
            END { printf "%.0f %.0f %.0f\n", (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2, t[1], t[NR] }')
        # shellcheck disable=SC2086
        cpu=$(printf '%s\n' ${cpus[$engine]} | sort -n | awk -v hz="$hz" '
            { t[NR] = $1 / hz }
            END { printf "%.2f\n", (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
        linux_median[$engine]=$med linux_cpu[$engine]=$cpu
        printf '%-12s %14s %10s %10s %14s\n' "$engine" "$med" "$min" "$max" "$cpu"
    done
    if [ "$with_replayvm" = 1 ]; then
        # Speed ratio per round (QEMU icount's CPU over replayvm's: above 1, replayvm is faster).
        # shellcheck disable=SC2086
        printf 'per round, speed replayvm/QEMU(icount) in CPU time, min/median/max: %s\n' "$(paste -d' ' \
            <(printf '%s\n' ${cpus[qemu-icount]}) <(printf '%s\n' ${cpus[replayvm]}) \
            | awk '$2 > 0 { print $1 / $2 }' | sort -n | awk '
            { r[NR] = $1 }
            END { if (!NR) { print "n/a"; exit } printf "%.2f/%.2f/%.2f (%d rounds)\n", r[1], (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2, r[NR], NR }')"
    fi
    if [ "$with_replayvm" = 1 ]; then
        printf 'Linux boot%s to prompt, time replayvm/QEMU(icount): %s wall, %s CPU; replayvm/QEMU(plain): %s wall, %s CPU\n' "${workload:+ + $workload}" \
            "$(ratio "${linux_median[replayvm]}" "${linux_median[qemu-icount]}")" \
            "$(ratio "${linux_cpu[replayvm]}" "${linux_cpu[qemu-icount]}")" \
            "$(ratio "${linux_median[replayvm]}" "${linux_median[qemu]}")" \
            "$(ratio "${linux_cpu[replayvm]}" "${linux_cpu[qemu]}")"
    fi
    done
    if [ "$with_replayvm" = 1 ]; then
        printf 'wait #\\x20\nsend poweroff\\r\n' >"$work/linux-poweroff.script"
        "$replayvm" record -o "$work/linux.rvtrace" --input-script "$work/linux-poweroff.script" -m 128M --bios "$opensbi" \
            --kernel "$image" --initrd "$initramfs" --append "$cmdline" --drive "$disk" >/dev/null 2>"$work/linux-record.err" \
            || die "recording the Linux boot failed: $(tail -n 3 "$work/linux-record.err")"
        echo "steps, boot to prompt + poweroff: $("$replayvm" info "$work/linux.rvtrace" | sed -n 's/^steps  *//p')"
    fi
}
