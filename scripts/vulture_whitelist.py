# Names vulture (the dead-code check of `nox -s lint`) cannot see being used. Review before adding to it: a name
# that is really unused is deleted, not listed here. Regenerate the candidates with
#   vulture src/shipyard --min-confidence 60 --make-whitelist
#
# pydantic: model_config and the @field_validator/@model_validator methods are called by pydantic itself;
# liveness is a shipyard.yaml key users write (validated like readiness; the probes are the manifests' own).
model_config  # unused variable (src/shipyard/config/schema.py:32)
liveness  # unused variable (src/shipyard/config/schema.py:50)
_._path  # unused method (src/shipyard/config/schema.py:53)
_._route  # unused method (src/shipyard/config/schema.py:64)
_._username  # unused method (src/shipyard/config/schema.py:102)
_._password  # unused method (src/shipyard/config/schema.py:109)
_._ca  # unused method (src/shipyard/config/schema.py:116)
_._credentials  # unused method (src/shipyard/config/schema.py:123)
_._address  # unused method (src/shipyard/config/schema.py:129)
_._namespace  # unused method (src/shipyard/config/schema.py:137)
_._one_source  # unused method (src/shipyard/config/schema.py:152)
_._from_string  # unused method (src/shipyard/config/schema.py:166)
_._address  # unused method (src/shipyard/config/schema.py:181)
_._volumes  # unused method (src/shipyard/config/schema.py:255)
_._unique_hosts  # unused method (src/shipyard/config/schema.py:294)
_._accessory_names  # unused method (src/shipyard/config/schema.py:304)
_._accessory_hosts  # unused method (src/shipyard/config/schema.py:309)
_._one_renderer  # unused method (src/shipyard/config/schema.py:335)
_._platform  # unused method (src/shipyard/config/schema.py:360)
_._args  # unused method (src/shipyard/config/schema.py:367)
_._project  # unused method (src/shipyard/config/schema.py:387)
_._service_names  # unused method (src/shipyard/config/schema.py:392)
_._secret_names  # unused method (src/shipyard/config/schema.py:397)
_._env_names  # unused method (src/shipyard/config/schema.py:405)
model_config  # unused variable (src/shipyard/config/workspace.py:48)
_._globs  # unused method (src/shipyard/config/workspace.py:69)
_._env  # unused method (src/shipyard/config/workspace.py:76)
_._deps  # unused method (src/shipyard/config/workspace.py:84)
_._names  # unused method (src/shipyard/config/workspace.py:109)
_._globs  # unused method (src/shipyard/config/workspace.py:129)
_._default_names  # unused method (src/shipyard/config/workspace.py:136)
# the console script entry point (pyproject [project.scripts])
main  # unused function (src/shipyard/cli.py:11)
# paramiko overrides (run/ssh.py subclasses its channel file handling), http.client's attribute, a dataclass's
# doc attribute set for Invoke's help, and constants kept for readers of the protocol they name
CMAINT  # unused variable (src/shipyard/facts/proxy.py:12)
_.read_proc_stderr  # unused method (src/shipyard/run/ssh.py:98)
_._write_proc_stdin  # unused method (src/shipyard/run/ssh.py:123)
_.close_proc_stdin  # unused method (src/shipyard/run/ssh.py:132)
_.auto_open  # unused attribute (src/shipyard/sandbox/load.py:169)
KINDS  # unused variable (src/shipyard/targets/kinds.py:10)
_.__doc__  # unused attribute (src/shipyard/tasks/monorepo.py:114)
# read by tests (the test bed's registry helpers) or filled from JSON that has them (a Helm history row's
# app_version, the secrets baseline's hashed_secret)
app_version  # unused variable (src/shipyard/facts/k8s.py:38)
hashed_secret  # unused variable (src/shipyard/infra/secrets.py:57)
garbage_collect  # unused function (src/shipyard/testbed/registry.py:140)
delete_tag  # unused function (src/shipyard/testbed/registry.py:151)
_.read_count  # unused attribute (src/shipyard/monorepo/hashing.py): tests/unit/test_monorepo_cache.py
_.active  # unused property (src/shipyard/run/tunnel.py): tests/integration/test_run_tunnel.py
