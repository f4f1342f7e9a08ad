#!/usr/bin/env bash
# Start a one-node SLURM cluster on localhost (munge, slurmctld, slurmd -N localhost) for the
# tests marked `slurm`, CI and local development. Debian/Ubuntu, no systemd or cgroups needed.
# Installs the OS packages when missing, writes /etc/slurm/slurm.conf, starts the daemons that
# are not running and waits until the node accepts jobs. Safe to run again. Needs root (re-runs
# itself through sudo otherwise). Stop with scripts/slurm-down.sh.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
export DEBIAN_FRONTEND=noninteractive

packages="slurmctld slurmd slurm-client munge"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

# RealMemory must not exceed the machine's memory, or the node is unusable: 80% of it.
memory_mb=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
conf=$(cat <<CONF
ClusterName=localci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MinJobAge=300
DefMemPerCPU=$((memory_mb / $(nproc)))
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
)
changed=0
if [ "$(cat /etc/slurm/slurm.conf 2>/dev/null)" != "$conf" ]; then
  printf '%s\n' "$conf" >/etc/slurm/slurm.conf
  changed=1
fi

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd -N localhost
if [ "$changed" = 1 ]; then scontrol reconfigure >/dev/null 2>&1 || true; fi

# Ready when the node takes jobs: idle, or busy with jobs already running.
for _ in $(seq 1 120); do
  if sinfo -h -o %T 2>/dev/null | grep -qxE 'idle|mixed|allocated'; then
    sinfo
    exit 0
  fi
  sleep 0.5
done
echo "slurm-up: the node did not become idle within 60 s" >&2
sinfo >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
