"""What each workload runs: GPU versus CPU worker, probes and limits, commands, env names, secrets."""

import re
from urllib.parse import urlparse

import click
import pytest
import typer.main

from aar.cli import app
from aar.k8s.checks import (
    RUNTIME_IMAGES,
    container_problems,
    env_problems,
    known_env_names,
    reference_problems,
    secret_values,
)
from aar.k8s.podsecurity import containers, pod_specs
from aar.k8s.render import ROOT
from aar_core.settings import check_admin_secret
from tests.k8s.conftest import ALL, container, find

PENDING_COMMANDS = {"dashboard"}  # `aar dashboard` is being written (issue 8); checked once it is registered


def test_gpu_worker_gets_one_gpu_on_a_gpu_node(rendered):
    deployment = find(rendered["gpu"], "Deployment", "aar-scorer-worker")
    assert deployment["metadata"]["namespace"] == "aar-scoring"
    assert find(rendered["gpu"], "PersistentVolumeClaim", "aar-models")["metadata"]["namespace"] == "aar-scoring"
    worker = deployment["spec"]["template"]["spec"]
    c = worker["containers"][0]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1" == c["resources"]["requests"]["nvidia.com/gpu"]
    assert c["image"] == "aar-runtime-gpu:0.1.0" and c["command"] == ["aar", "scorer", "worker"]
    assert {"name": "AAR_DEVICE", "value": "cuda"} in c["env"]
    assert worker["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in worker["tolerations"]
    assert {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}} in worker["volumes"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "aar-models", "readOnly": True}} in worker[
        "volumes"
    ]
    # the jail's settings survive the overlay's patch
    assert worker["hostUsers"] is False and c["securityContext"]["procMount"] == "Unmasked"


def test_cpu_overlay_has_no_gpu_anywhere(rendered):
    assert "nvidia.com" not in repr(rendered["cpu"])
    c = container(rendered["cpu"], "Deployment", "aar-scorer-worker", "worker")
    assert {"name": "AAR_DEVICE", "value": "cpu"} in c["env"] and c["image"] == "aar-runtime:0.1.0"


@pytest.mark.parametrize("overlay", ALL)
def test_every_container_has_probes_limits_and_a_read_only_root(rendered, overlay):
    assert container_problems(rendered[overlay]) == []


def test_container_check_catches_a_missing_probe_and_limit(rendered):
    objects = rendered["cpu"]
    c = container(objects, "Deployment", "aar-forum", "forum")
    del c["readinessProbe"], c["resources"]["limits"]["memory"]
    assert container_problems(objects) == [
        "Deployment/aar-forum container forum: no limits.memory",
        "Deployment/aar-forum container forum: no readinessProbe",
    ]


def test_redis_never_evicts_and_postgres_keeps_its_data(rendered):
    redis = container(rendered["gpu"], "Deployment", "aar-redis", "redis")
    assert redis["args"][redis["args"].index("--maxmemory-policy") + 1] == "noeviction"
    postgres = find(rendered["gpu"], "StatefulSet", "aar-postgres")["spec"]
    assert postgres["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert {"name": "data", "mountPath": "/var/lib/postgresql/data"} in postgres["template"]["spec"]["containers"][0][
        "volumeMounts"
    ]


def test_migrations_run_before_the_apis(rendered):
    for name, service in (("aar-scorer", "scorer"), ("aar-forum", "forum")):
        init = find(rendered["gpu"], "Deployment", name)["spec"]["template"]["spec"]["initContainers"]
        assert init[0]["command"] == ["aar", service, "migrate"]


def test_service_urls_point_at_real_services(rendered):
    objects = rendered["gpu"]
    config = _generated(objects, "ConfigMap")[("aar", "aar-config")]["data"]
    campaign = container(objects, "Job", "aar-campaign", "campaign")
    args = campaign["args"]
    urls = [
        config["AAR_SCORER_URL"],
        config["AAR_FORUM_URL"],
        args[args.index("--scorer-url") + 1],
        args[args.index("--forum-url") + 1],
    ]
    for url in urls:
        parsed = urlparse(url)
        service = find(objects, "Service", parsed.hostname)
        assert parsed.port in [p["port"] for p in service["spec"]["ports"]]
    assert campaign["command"] == ["aar", "campaign", "run"] and "--no-live" in args


def _commands(objects):
    for where, spec in pod_specs(objects):
        for c in containers(spec):
            if c.get("command", [""])[0] == "aar":
                yield f"{where}/{c['name']}", c["command"][1:] + c.get("args", [])


@pytest.mark.parametrize("overlay", ALL)
def test_every_aar_command_parses_with_the_real_cli(rendered, overlay):
    root = typer.main.get_command(app)
    checked = 0
    for where, argv in _commands(rendered[overlay]):
        if argv[0] in PENDING_COMMANDS and argv[0] not in root.commands:
            continue
        command, args = root, list(argv)
        while isinstance(command, click.Group):
            command = command.commands[args.pop(0)]
        with command.make_context(where, args, resilient_parsing=False):
            checked += 1
    assert checked >= 6  # migrate x2, scorer api, worker, forum api, campaign (+ dashboard once registered)


@pytest.mark.parametrize("overlay", ALL)
def test_env_names_are_the_settings_names(rendered, overlay):
    assert env_problems(rendered[overlay], known_env_names(typer.main.get_command(app))) == []


def test_env_names_come_from_the_settings_classes(rendered):
    known = known_env_names(typer.main.get_command(app))
    assert {
        "DATABASE_URL",
        "REDIS_URL",
        "AAR_ADMIN_TOKEN",
        "AAR_HOME",
        "AAR_SCORER_URL",
        "AAR_FORUM_URL",
        "AAR_DEVICE",
        "ANTHROPIC_API_KEY",
        "AAR_SCORER_JOB_TIME_LIMIT_S",
        "AAR_FORUM_STORAGE",
        "AAR_WEAK_MODEL_PATH",
        "AAR_SANDBOX_MEMORY_MB",
    } <= known
    objects = rendered["gpu"]
    container(objects, "Deployment", "aar-scorer-worker", "worker")["env"].append(
        {"name": "AAR_SCORER_SEEDZ", "value": "3"}
    )
    assert env_problems(objects, known) == [
        "Deployment/aar-scorer-worker container worker: AAR_SCORER_SEEDZ is read by nothing"
    ]


@pytest.mark.parametrize("overlay", ALL)
def test_every_referenced_secret_config_and_claim_exists(rendered, overlay):
    assert reference_problems(rendered[overlay]) == []


def test_reference_check_catches_a_missing_key(rendered):
    objects = rendered["gpu"]
    env = container(objects, "Deployment", "aar-scorer", "api")["env"]
    next(e for e in env if e["name"] == "DATABASE_URL")["valueFrom"]["secretKeyRef"]["key"] = "DB_URL"
    assert len(problems := reference_problems(objects)) == 1 and "has no key DB_URL" in problems[0]


def test_reference_check_looks_in_the_pods_own_namespace(rendered):
    objects = rendered["cpu"]
    objects.remove(_generated(objects, "Secret")[("aar-scoring", "aar-secrets")])  # aar still has one
    problems = reference_problems(objects)
    assert len(problems) == 3  # DATABASE_URL, REDIS_URL and AAR_SCORING_SECRET
    assert all(
        p.startswith("Deployment/aar-scorer-worker: Secret aar-secrets-")
        and p.endswith("is not in the render (namespace aar-scoring)")
        for p in problems
    ), problems


def test_runtime_containers_get_secrets_only_by_secret_key_ref(rendered):
    for _, spec in pod_specs(rendered["gpu"]):
        for c in containers(spec):
            assert not any("secretRef" in e for e in c.get("envFrom", [])), c["name"]
            if c["image"].startswith(RUNTIME_IMAGES):
                secret_env = {e["name"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
                allowed = {"AAR_ADMIN_TOKEN", "AAR_SCORING_SECRET", "ANTHROPIC_API_KEY", "DATABASE_URL", "REDIS_URL"}
                assert secret_env <= allowed


def test_only_the_scorer_holds_the_scoring_secret(rendered):
    holders = {
        (spec_name, c["name"])
        for spec_name, spec in pod_specs(rendered["gpu"])
        for c in containers(spec)
        if any(e["name"] == "AAR_SCORING_SECRET" for e in c.get("env", []))
    }
    assert {name for _, name in holders} <= {"api", "worker"} and len(holders) >= 2


def test_only_the_campaign_runner_holds_the_llm_key(rendered):
    holders = {
        c["name"]
        for _, spec in pod_specs(rendered["gpu"])
        for c in containers(spec)
        if any(e["name"] == "ANTHROPIC_API_KEY" for e in c.get("env", []))
    }
    assert holders == {"campaign"}


def _generated(objects, kind):
    """(namespace, name without the hash suffix) → the generated Secrets or ConfigMaps."""
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"].rsplit("-", 1)[0]): o for o in objects if o["kind"] == kind
    }


def test_shipped_secrets_are_placeholders(rendered):
    secrets = {ref: secret_values(o) for ref, o in _generated(rendered["gpu"], "Secret").items()}
    app_secrets, postgres, redis = (secrets["aar", name] for name in ("aar-secrets", "aar-postgres", "aar-redis"))
    with pytest.raises(ValueError):  # the services refuse to start until it is replaced
        check_admin_secret(app_secrets["AAR_ADMIN_TOKEN"])
    assert app_secrets["ANTHROPIC_API_KEY"] == ""  # the offline researcher
    database = urlparse(app_secrets["DATABASE_URL"])
    assert (database.username, database.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
    assert urlparse(app_secrets["REDIS_URL"]).password == redis["REDIS_PASSWORD"]
    passwords = {
        postgres["POSTGRES_PASSWORD"],
        redis["REDIS_PASSWORD"],
        app_secrets["AAR_ADMIN_TOKEN"],
        app_secrets["AAR_SCORING_SECRET"],
    }
    assert passwords == {"changeme"}
    # the worker's copy: only what it reads, same credentials, the data stores named across namespaces
    scoring = secrets["aar-scoring", "aar-secrets"]
    assert set(scoring) == {"DATABASE_URL", "REDIS_URL", "AAR_SCORING_SECRET"}
    assert scoring["AAR_SCORING_SECRET"] == app_secrets["AAR_SCORING_SECRET"]  # API and worker split alike
    for key in ("DATABASE_URL", "REDIS_URL"):
        here, there = urlparse(app_secrets[key]), urlparse(scoring[key])
        assert (there.username, there.password, there.port, there.path) == (
            here.username,
            here.password,
            here.port,
            here.path,
        )
        assert there.hostname == f"{here.hostname}.aar.svc"
        service = find(rendered["gpu"], "Service", here.hostname)
        assert service["metadata"]["namespace"] == "aar" and there.port in [p["port"] for p in service["spec"]["ports"]]


def test_both_namespaces_share_the_settings(rendered):
    configs = {ns: o["data"] for (ns, _), o in _generated(rendered["gpu"], "ConfigMap").items()}
    assert set(configs) == {"aar", "aar-scoring"}
    urls = {"AAR_SCORER_URL", "AAR_FORUM_URL", "AAR_FORUM_STORAGE"}  # calls between services: not the worker's
    assert configs["aar-scoring"] == {k: v for k, v in configs["aar"].items() if k not in urls}
    worker = container(rendered["gpu"], "Deployment", "aar-scorer-worker", "worker")
    assert {e["name"] for e in worker["env"] if "valueFrom" in e} == {"DATABASE_URL", "REDIS_URL", "AAR_SCORING_SECRET"}


def test_no_real_key_anywhere_under_k8s():
    real_key = re.compile(r"sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9]{20,}|aar_(admin|sc|fm)_[A-Za-z0-9_-]{20,}")
    for path in ROOT.rglob("*"):
        if path.is_file():
            assert not real_key.search(path.read_text()), path


def test_inline_python_in_probes_and_init_containers_compiles(rendered):
    snippets = []
    for _, spec in pod_specs(rendered["gpu"]):
        for c in containers(spec):
            for argv in (
                c.get("command", []),
                *(c.get(p, {}).get("exec", {}).get("command", []) for p in ("livenessProbe", "readinessProbe")),
            ):
                if argv[:2] == ["python", "-c"]:
                    snippets.append(argv[2])
    assert len(snippets) == 5  # worker probes x2, campaign probes x2, campaign wait-for-services
    for code in snippets:
        compile(code, "<probe>", "exec")
