#!/bin/sh
# Shipyard host setup: the one script that shapes a host for Shipyard's VM target, run as root.
#
# cloud-init runs it on every droplet of this module (cloud-init.yaml.tftpl ships it as
# /usr/local/sbin/shipyard-host-setup); `invoke sandbox.up` runs the very same file inside each sandbox VM
# (docker exec, as root), so a rehearsal host and a droplet are shaped by the same lines. Idempotent: a second
# run changes nothing and says so; run it again after a reboot, a new key or an upgrade.
#
# What it does:
#   - Docker, python3 and flock present (apt, only for what is missing); Docker enabled where systemd runs.
#   - groups `docker` and `shipyard`; the deploy user (never root) in both, key-only: its password is `*`.
#   - the deploy user's ~/.ssh/authorized_keys replaced by --authorized-keys (exactly who may deploy).
#   - /var/lib/shipyard owned by <user>:shipyard, mode 2750 (setgid: what is created below it is group
#     shipyard, which the proxy container joins to create its admin socket; nothing is world-writable).
#     Anything an earlier root deploy left there is handed to the deploy user.
#   - sshd: no root login, no passwords (a drop-in checked with `sshd -T`, then sshd reloaded).
#
# usage: host-setup.sh [--user NAME] [--authorized-keys FILE]
#        defaults: --user deploy --authorized-keys /etc/shipyard/authorized_keys
set -eu

user=deploy
keys=/etc/shipyard/authorized_keys
group=shipyard
state=/var/lib/shipyard
dropin=/etc/ssh/sshd_config.d/10-shipyard.conf

say() { printf 'host-setup: %s\n' "$*"; }
die() { printf 'host-setup: %s\n' "$*" >&2; exit "${2:-1}"; }
usage() { die "usage: host-setup.sh [--user NAME] [--authorized-keys FILE]" 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --user) [ $# -ge 2 ] || usage; user=$2; shift 2 ;;
        --authorized-keys) [ $# -ge 2 ] || usage; keys=$2; shift 2 ;;
        *) usage ;;
    esac
done

[ "$(id -u)" = 0 ] || die "run me as root (cloud-init and the sandbox do)"
case "$user" in
    root | "") die "the deploy user must not be root" 2 ;;
    *[!a-z0-9_-]* | [!a-z_]*) die "not a user name: $user" 2 ;;
esac
grep -q '^[a-z]' "$keys" 2> /dev/null || die "no public key in $keys: the deploy user could never log in" 2

# 1. Packages: only what is missing (cloud-init's own package list usually installed them already).
missing=""
command -v docker > /dev/null 2>&1 || missing="$missing docker.io"
command -v python3 > /dev/null 2>&1 || missing="$missing python3"
command -v flock > /dev/null 2>&1 || missing="$missing util-linux"
if [ -n "$missing" ]; then
    command -v apt-get > /dev/null 2>&1 || die "missing:$missing, and no apt-get to install them"
    # shellcheck disable=SC2086 # one word per package
    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing
    say "installed$missing"
fi
if [ -d /run/systemd/system ]; then
    systemctl is-enabled --quiet docker 2> /dev/null || { systemctl enable --now docker; say "enabled docker"; }
fi

# 2. Groups and the deploy user.
for g in docker "$group"; do
    if ! getent group "$g" > /dev/null; then
        groupadd --system "$g"
        say "created group $g"
    fi
done
if ! getent passwd "$user" > /dev/null; then
    useradd --create-home --shell /bin/bash --user-group --comment "Shipyard deploy user" "$user"
    say "created user $user"
fi
for g in docker "$group"; do
    if ! id -nG "$user" | tr ' ' '\n' | grep -qx "$g"; then
        usermod -a -G "$g" "$user"
        say "added $user to group $g"
    fi
done
# `*`: no password matches, and the account is not locked (`!`), which sshd without PAM refuses even for keys.
if [ "$(getent shadow "$user" | cut -d: -f2)" != '*' ]; then
    usermod -p '*' "$user"
    say "$user logs in with a key only"
fi

# 3. Authorized keys: the file lists exactly who may deploy.
home=$(getent passwd "$user" | cut -d: -f6)
primary=$(id -g "$user")
install -d -m 0700 -o "$user" -g "$primary" "$home/.ssh"
if ! cmp -s "$keys" "$home/.ssh/authorized_keys"; then
    install -m 0600 -o "$user" -g "$primary" "$keys" "$home/.ssh/authorized_keys"
    say "installed $(grep -c '^[a-z]' "$keys") authorized key(s) for $user"
fi

# 4. Shipyard's state directory. A project's directories below it are made by `deploy.setup` as the user.
mkdir -p "$state"
if [ "$(stat -c '%U:%G %a' "$state")" != "$user:$group 2750" ]; then
    chown "$user:$group" "$state"
    chmod 2750 "$state"
    say "$state is $user:$group, mode 2750"
fi
# State from an earlier root deploy becomes the user's (the proxy's admin socket is the proxy's: left alone).
if [ -n "$(find "$state" -mindepth 1 ! -type s \( ! -user "$user" -o ! -group "$group" \) -print -quit)" ]; then
    find "$state" -mindepth 1 ! -type s \( ! -user "$user" -o ! -group "$group" \) -exec chown "$user:$group" {} +
    say "handed what an earlier deploy left in $state to $user:$group"
fi

# 5. sshd: keys only, never root. The drop-in sorts before the distribution's, and sshd keeps the first value.
want="# Written by Shipyard's host-setup.sh: key-only logins, no root login. Edit the script, not this file.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no"
if [ "$(cat "$dropin" 2> /dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$dropin")"
    printf '%s\n' "$want" > "$dropin.new"
    chmod 0644 "$dropin.new"
    mv "$dropin.new" "$dropin"
    changed_sshd=yes
    say "wrote $dropin"
else
    changed_sshd=no
fi
mkdir -p /run/sshd # sshd -T needs its privilege separation directory
effective=$(sshd -T -C user=root,host=localhost,addr=127.0.0.1) || die "sshd rejects its configuration (sshd -t)"
for setting in "permitrootlogin no" "passwordauthentication no" "kbdinteractiveauthentication no"; do
    printf '%s\n' "$effective" | grep -qx "$setting" ||
        die "sshd would not apply '$setting': another file in /etc/ssh sets it first (sshd -T shows what applies)"
done
if [ "$changed_sshd" = yes ]; then
    if [ -d /run/systemd/system ]; then
        systemctl try-reload-or-restart ssh.service 2> /dev/null || systemctl try-reload-or-restart sshd.service
    elif [ -s /run/sshd.pid ]; then
        # No init system (a container): SIGHUP makes sshd re-execute itself; it writes its pid file again once
        # it listens, so wait for that before saying it is done.
        pid=$(cat /run/sshd.pid)
        rm -f /run/sshd.pid
        kill -HUP "$pid"
        i=0
        while [ ! -s /run/sshd.pid ]; do
            i=$((i + 1))
            [ "$i" -le 100 ] || die "sshd did not come back within 10 s of a reload"
            sleep 0.1
        done
    fi
    say "reloaded sshd: root cannot log in, passwords are refused"
fi
say "done: $(hostname) takes deploys as $user (groups: $(id -nG "$user"))"
