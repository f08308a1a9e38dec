#!/usr/bin/env bash
# Not needed by `npm test`, which starts a private MariaDB of its own. This is
# for a server of your own: it brings up the system MariaDB (port 3306) and
# prints, as the only line on stdout, the export the caller evals (the tests
# then use it instead):
#
#   eval "$(bash .ci/start-mariadb.sh)"
#
# Idempotent: safe to run when MariaDB is already installed and running.
# Runs as root with no stdin and no systemd (CI containers), so everything is
# done by hand; all progress goes to stderr to keep stdout eval-able.
set -euo pipefail

MARIADBD=/usr/sbin/mariadbd
DATADIR=/var/lib/mysql
RUNDIR=/run/mysqld
LOGFILE=/var/log/mysql/courtside-mariadbd.log
WAIT_SECONDS=60
USER_NAME=courtside
USER_PASS=courtside

log() { echo "start-mariadb: $*" >&2; }
die() { echo "start-mariadb: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages and starts mariadbd)"

if [ ! -x "$MARIADBD" ]; then
  log "installing mariadb-server with apt-get"
  # A container without policy-rc.d lets the package's postinst try to start
  # the service through init scripts, which can hang or fail without systemd;
  # we start it ourselves below, so forbid that for the install only.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2 </dev/null
  apt-get install -y --no-install-recommends mariadb-server mariadb-client >&2 </dev/null
  if [ "$added_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ -x "$MARIADBD" ] || die "apt-get finished but $MARIADBD is still missing"
fi

# The package normally creates these; a cleaned /run (tmpfs) or a stripped
# image may not have them, and mariadbd will not create its socket dir itself.
if id mysql >/dev/null 2>&1; then owner=mysql:mysql; else owner=root:root; fi
mkdir -p "$RUNDIR" "$(dirname "$LOGFILE")"
chown "$owner" "$RUNDIR" "$(dirname "$LOGFILE")"
chmod 755 "$RUNDIR"

if [ ! -d "$DATADIR/mysql" ]; then
  log "initialising data directory $DATADIR"
  mkdir -p "$DATADIR"
  chown "$owner" "$DATADIR"
  mariadb-install-db --user=root --datadir="$DATADIR" \
    --auth-root-authentication-method=socket >&2 </dev/null \
    || die "mariadb-install-db failed"
fi

ping_server() { mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1; }

if ping_server; then
  log "mariadbd already answering"
else
  log "starting mariadbd"
  # --oknodo: a mariadbd that is already running (but not answering yet) is
  # left alone rather than started twice on the same data directory.
  start-stop-daemon --start --oknodo --background --exec "$MARIADBD" -- \
    --user=root --log-error="$LOGFILE" </dev/null >&2
  waited=0
  until ping_server; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
      log "last lines of $LOGFILE:"
      tail -n 30 "$LOGFILE" >&2 2>/dev/null || true
      die "mariadbd did not answer within ${WAIT_SECONDS}s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "mariadbd answering after ${waited}s"
fi

# root keeps socket-only auth (Debian's default); the tests log in as this
# user over TCP. ALTER USER resets the password on an existing account so a
# changed password elsewhere cannot leave the tests locked out.
mariadb --protocol=socket -uroot </dev/null >&2 -e "
  CREATE USER IF NOT EXISTS '${USER_NAME}'@'localhost' IDENTIFIED BY '${USER_PASS}';
  CREATE USER IF NOT EXISTS '${USER_NAME}'@'127.0.0.1' IDENTIFIED BY '${USER_PASS}';
  ALTER USER '${USER_NAME}'@'localhost' IDENTIFIED BY '${USER_PASS}';
  ALTER USER '${USER_NAME}'@'127.0.0.1' IDENTIFIED BY '${USER_PASS}';
  GRANT ALL PRIVILEGES ON *.* TO '${USER_NAME}'@'localhost';
  GRANT ALL PRIVILEGES ON *.* TO '${USER_NAME}'@'127.0.0.1';
  CREATE DATABASE IF NOT EXISTS courtside CHARACTER SET utf8mb4;
  FLUSH PRIVILEGES;
" || die "could not create user ${USER_NAME}"

# Prove the URL we hand out really works over TCP before printing it.
mariadb --protocol=tcp -h127.0.0.1 -P3306 -u"$USER_NAME" -p"$USER_PASS" -e 'SELECT 1' </dev/null >/dev/null \
  || die "user ${USER_NAME} cannot log in over TCP at 127.0.0.1:3306"

echo "export COURTSIDE_TEST_MYSQL_URL=mysql://${USER_NAME}:${USER_PASS}@127.0.0.1:3306/courtside"
