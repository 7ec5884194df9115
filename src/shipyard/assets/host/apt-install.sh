#!/bin/sh
# Install packages with apt on a droplet fresh from `terraform apply`: cloud-init may still hold apt's lock, so
# wait for cloud-init to finish (where it exists), then let apt wait for the lock instead of failing at once.
#   sh -c "$(cat apt-install.sh)" shipyard-apt PACKAGE...     (commands/hoststate.py: apt_install)
if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
apt-get -o DPkg::Lock::Timeout=600 update -qq &&
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@"
