#!/usr/bin/env bash
# A one-node Slurm cluster for CI: Debian's slurm-wlm 22.05 and munge, without systemd (PID 1
# here is not an init system), every daemon on 127.0.0.1.
# Usage: tests/slurm/cluster.sh up|down
#   up   : install the packages if missing, write /etc/slurm/slurm.conf, start munged,
#          slurmctld and slurmd, wait for the node to be idle, check `srun hostname`
#   down : stop only the daemons this script started (their PIDs are in $RUN)
# Exit 2: the packages are missing and the Debian package archive is unreachable.
set -euo pipefail

RUN=/run/simulacra-ci-slurm # our PID files, daemon output and the apt log
PKGS="slurmctld slurmd slurm-client munge python3-yaml" # python3-yaml: the manifest check
H=$(hostname -s)
mkdir -p "$RUN"

alive() { # alive PIDFILE COMM: true if PIDFILE names a live process called COMM
  local p
  p=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ]
}

install_pkgs() {
  local p missing=0
  for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing=1
  done
  [ "$missing" = 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  # --error-on=any: without it a failed fetch still exits 0.
  if ! apt-get update -qq --error-on=any; then
    echo "slurm: cannot reach the Debian package archive (apt-get update failed)" >&2
    exit 2
  fi
  # No init system: keep the packages' install scripts from starting services.
  local prc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    prc=1
  fi
  local rc=0
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $PKGS >"$RUN/apt.log" 2>&1 || rc=$?
  [ "$prc" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" != 0 ]; then
    cat "$RUN/apt.log" >&2
    if grep -qiE 'Failed to fetch|Unable to fetch|Could not (resolve|connect)|Temporary failure' "$RUN/apt.log"; then
      echo "slurm: cannot reach the Debian package archive (apt-get install failed)" >&2
      exit 2
    fi
    exit 1
  fi
}

configure() {
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  local node
  node=$(slurmd -C | head -n1) # NodeName=<host> CPUs=.. RealMemory=.. as slurmd reports them
  case $node in
    NodeName=*) ;;
    *) node="NodeName=$H CPUs=$(nproc) RealMemory=$(free -m | awk '/^Mem:/{print $2}')" ;;
  esac
  # No cgroups: processes are tracked by their parent links, no accounting daemon.
  cat >/etc/slurm/slurm.conf <<CONF
ClusterName=ci
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi # a munged already works
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge # systemd's RuntimeDirectory= would make it
  runuser -u munge -- /usr/sbin/munged </dev/null # forks; writes /run/munge/munged.pid
  cp /run/munge/munged.pid "$RUN/munged.pid"
  local i
  for i in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "slurm: munged did not come up" >&2
  tail -n 20 /var/log/munge/munged.log >&2 || true
  return 1
}

start_slurm() {
  local d
  for d in slurmctld slurmd; do
    if alive "$RUN/$d.pid" "$d" || alive "/run/$d.pid" "$d"; then continue; fi
    # stdin and output away from the caller's pipe, or the CI log stays open.
    "$d" -D </dev/null >>"$RUN/$d.out" 2>&1 &
    echo $! >"$RUN/$d.pid"
  done
  local i s=""
  for i in $(seq 120); do
    s=$(sinfo -h -n "$H" -o %T 2>/dev/null || true)
    if [ "$s" = idle ]; then
      sinfo
      [ "$(srun -n1 hostname)" = "$(hostname)" ] && return 0
      echo "slurm: srun hostname failed" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "slurm: node not idle (state '$s')" >&2
  tail -n 30 "$RUN"/*.out /var/log/slurm/*.log >&2 || true
  return 1
}

stop_all() {
  local d p i
  for d in slurmd slurmctld munged; do
    alive "$RUN/$d.pid" "$d" || {
      rm -f "$RUN/$d.pid"
      continue
    }
    p=$(cat "$RUN/$d.pid")
    kill "$p" 2>/dev/null || true
    for i in $(seq 50); do
      [ -d "/proc/$p" ] || break
      sleep 0.2
    done
    rm -f "$RUN/$d.pid"
  done
}

case ${1:-} in
  up) install_pkgs; configure; start_munge; start_slurm ;;
  down) stop_all ;;
  *) echo "usage: $0 up|down" >&2; exit 64 ;;
esac
