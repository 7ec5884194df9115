#!/bin/sh
# Start an SSH host fast: fresh ed25519 host key, authorized key from the mount or the environment,
# optionally the inner Docker engine in the background, then sshd in the foreground.
set -eu

mkdir -p /run/sshd /root/.ssh
chmod 700 /root/.ssh
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
    ssh-keygen -q -t ed25519 -N '' -C "$(hostname)" -f /etc/ssh/ssh_host_ed25519_key
fi
: > /root/.ssh/authorized_keys.new
if [ -s /etc/shipyard/authorized_keys ]; then
    cat /etc/shipyard/authorized_keys >> /root/.ssh/authorized_keys.new
fi
if [ -n "${SSH_AUTHORIZED_KEYS:-}" ]; then
    printf '%s\n' "$SSH_AUTHORIZED_KEYS" >> /root/.ssh/authorized_keys.new
fi
chmod 600 /root/.ssh/authorized_keys.new
mv /root/.ssh/authorized_keys.new /root/.ssh/authorized_keys

if [ "${DOCKERD:-0}" = 1 ]; then
    start-docker > /var/log/start-docker.log 2>&1 &
fi

if [ $# -gt 0 ]; then
    exec "$@"
fi
exec /usr/sbin/sshd -D -e
