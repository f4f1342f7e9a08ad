#!/usr/bin/env bash
# Stop the one-node cluster that scripts/slurm-up.sh started (slurmctld, slurmd, munged).
# Leaves packages, configuration and logs in place; running jobs are killed.
set -uo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
command -v scontrol >/dev/null && scontrol shutdown >/dev/null 2>&1
for _ in $(seq 1 40); do
  pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break
  sleep 0.25
done
for daemon in slurmctld slurmd; do
  pid_file=/run/$daemon.pid
  if pgrep -x "$daemon" >/dev/null && [ -s "$pid_file" ]; then kill "$(cat "$pid_file")" 2>/dev/null; fi
done
if pgrep -x munged >/dev/null; then runuser -u munge -- /usr/sbin/munged --stop >/dev/null 2>&1; fi
exit 0
