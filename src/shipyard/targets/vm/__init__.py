"""The VM target: blue/green releases on plain hosts over SSH (`target: vm` environments).

    target.py       the environment resolved for a run: hosts' runners, services, images, proxy backends
    verbs.py        the target's verbs (targets/base.py's ReleaseTarget) and its own: setup, prune, unlock
    bluegreen.py    a deploy or rollback across the hosts, phase by phase
    host.py         one host's facts and steps; lock.py its deploy lock (a lease); setup.py making it ready
    admin.py        reading and tidying: status, ledgers, the rollback release, the dry-run plan, prune, unlock
    ops.py          a live release's logs and one-off commands; env.py the env files containers are given
    accessories.py  long-lived containers next to the app (PostgreSQL, Redis)
"""
