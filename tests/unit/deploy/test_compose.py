"""Static checks of the production shape (no Docker engine here): docker-compose.yml,
deploy/Dockerfile and deploy/README.md agree with each other, with the CLI and with
``shared.config.Settings``, so configuration and deployment cannot drift apart."""
from __future__ import annotations

import base64
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import typer.main
import yaml

from meterstream.cli import app
from shared.config import SERVICES, Settings
from shared.contracts import TOPICS

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
README = (ROOT / "deploy" / "README.md").read_text()
SERVICES_BLOCK: dict[str, dict] = COMPOSE["services"]
BACKENDS = [s for s in SERVICES if s != "gateway"]
ONE_SHOTS = {"migrate": ["db", "upgrade"], "topics": ["topics", "create"]}
METERSTREAM = [*SERVICES, *ONE_SHOTS]
STORES = ("kafka", "postgres", "redis")
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's substitution with nothing set: defaults used, required ones become <NAME>."""
    def one(match: re.Match) -> str:
        op = match["op"] or ""
        if "-" in op:
            return match["arg"]
        if "?" in op:
            return f"<{match['name']}>"
        return ""
    return VARIABLE.sub(one, value)


def env_of(name: str) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in SERVICES_BLOCK[name].get("environment", {}).items()}


def healthcheck_port(name: str) -> int:
    (url,) = re.findall(r"http://127\.0\.0\.1:(\d+)/healthz", " ".join(SERVICES_BLOCK[name]["healthcheck"]["test"]))
    return int(url)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / SERVICES_BLOCK["gateway"]["build"]["dockerfile"]).read_text()
    logical = re.sub(r"\\\n", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical.splitlines() if line.strip()]


def test_compose_spec_without_obsolete_version_key() -> None:
    assert "version" not in COMPOSE
    assert set(COMPOSE["services"]) == {*STORES, *METERSTREAM}


@pytest.mark.parametrize("service", SERVICES)
def test_every_product_service_runs_its_own_command(service: str) -> None:
    assert SERVICES_BLOCK[service]["command"] == ["service", service]


@pytest.mark.parametrize(("service", "command"), ONE_SHOTS.items())
def test_one_shots_run_to_completion(service: str, command: list[str]) -> None:
    block = SERVICES_BLOCK[service]
    assert block["command"] == command
    assert block["restart"] == "no"


def test_every_meterstream_container_runs_the_same_image() -> None:
    images = {(SERVICES_BLOCK[s]["image"], repr(SERVICES_BLOCK[s]["build"])) for s in METERSTREAM}
    assert len(images) == 1
    build = SERVICES_BLOCK["gateway"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()


@pytest.mark.parametrize("service", METERSTREAM)
def test_commands_exist_in_the_cli(service: str) -> None:
    """Walks the typer command tree (groups have ``commands``) down the container's arguments."""
    root = typer.main.get_command(app)
    command, words = root, list(SERVICES_BLOCK[service]["command"])
    while words and words[0] in getattr(command, "commands", {}):
        command = command.commands[words.pop(0)]
    assert command is not root and not hasattr(command, "commands"), (
        f"`meterstream {' '.join(SERVICES_BLOCK[service]['command'])}` is not a CLI command"
    )


@pytest.mark.parametrize("service", METERSTREAM)
def test_every_container_reaches_the_same_stores(service: str) -> None:
    env = env_of(service)
    database, redis = urlparse(env["DATABASE_URL"]), urlparse(env["REDIS_URL"])
    assert database.scheme == "postgresql" and database.hostname == "postgres" and database.port == 5432
    assert database.username == SERVICES_BLOCK["postgres"]["environment"]["POSTGRES_USER"]
    assert database.path.lstrip("/") == SERVICES_BLOCK["postgres"]["environment"]["POSTGRES_DB"]
    assert redis.scheme == "redis" and redis.hostname == "redis" and redis.port == 6379
    kafka_env = SERVICES_BLOCK["kafka"]["environment"]
    assert f"PLAINTEXT://{env['KAFKA_BOOTSTRAP_SERVERS']}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")


@pytest.mark.parametrize("service", METERSTREAM)
def test_environment_names_are_settings_fields(service: str) -> None:
    unknown = set(SERVICES_BLOCK[service]["environment"]) - SETTINGS_ENV
    assert not unknown, f"{service} sets {sorted(unknown)}, which shared.config.Settings does not read"


def test_secrets_are_required_not_defaulted() -> None:
    env = SERVICES_BLOCK["gateway"]["environment"]
    for name in ("JWT_SECRET", "INTERNAL_TOKEN"):
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", env[name]), env[name]


def test_topic_partitions_match_the_contract_registry() -> None:
    assert {int(env_of(s)["TOPIC_PARTITIONS"]) for s in METERSTREAM} == {t.partitions for t in TOPICS}


@pytest.mark.parametrize("service", BACKENDS)
def test_backend_binds_all_interfaces_and_is_reached_by_name(service: str) -> None:
    own = urlparse(env_of(service)[f"{service.upper()}_URL"])
    seen_by_gateway = urlparse(env_of("gateway")[f"{service.upper()}_URL"])
    assert own.hostname == "0.0.0.0"
    assert seen_by_gateway.hostname == service
    assert own.port == seen_by_gateway.port == healthcheck_port(service)
    assert "ports" not in SERVICES_BLOCK[service], "back-end services are internal (and must stay scalable)"


def test_gateway_binds_all_interfaces_and_is_published() -> None:
    env = env_of("gateway")
    assert env["GATEWAY_HOST"] == "0.0.0.0"
    (published,) = [interpolate(p) for p in SERVICES_BLOCK["gateway"]["ports"]]
    assert published == f"8000:{env['GATEWAY_PORT']}"
    assert healthcheck_port("gateway") == int(env["GATEWAY_PORT"])


@pytest.mark.parametrize("service", [*STORES, *SERVICES])
def test_long_running_containers_have_healthchecks(service: str) -> None:
    check = SERVICES_BLOCK[service]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"} and not check.get("disable")
    assert SERVICES_BLOCK[service]["restart"] == "unless-stopped"


def test_store_healthchecks_use_their_own_probe() -> None:
    probes = {s: " ".join(SERVICES_BLOCK[s]["healthcheck"]["test"]) for s in STORES}
    assert "kafka-broker-api-versions.sh" in probes["kafka"]
    assert "pg_isready" in probes["postgres"]
    assert "redis-cli" in probes["redis"] and "ping" in probes["redis"]


def test_depends_on_targets_exist_with_matching_conditions() -> None:
    for service, block in SERVICES_BLOCK.items():
        for target, spec in block.get("depends_on", {}).items():
            assert target in SERVICES_BLOCK, f"{service} depends on unknown {target}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES_BLOCK[target] and not SERVICES_BLOCK[target]["healthcheck"].get("disable")
            else:
                assert condition == "service_completed_successfully" and target in ONE_SHOTS, (service, target)


@pytest.mark.parametrize("service", BACKENDS)
def test_backends_start_after_stores_migrations_and_topics(service: str) -> None:
    assert set(SERVICES_BLOCK[service]["depends_on"]) == {*STORES, *ONE_SHOTS}


def test_gateway_starts_after_every_backend() -> None:
    assert set(BACKENDS) <= set(SERVICES_BLOCK["gateway"]["depends_on"])


def test_kafka_is_a_single_kraft_node_with_a_valid_cluster_id() -> None:
    env = {k: interpolate(str(v)) for k, v in SERVICES_BLOCK["kafka"]["environment"].items()}
    assert SERVICES_BLOCK["kafka"]["image"] == "apache/kafka:3.9.0"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"].split(",")
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_stateful_stores_keep_their_data_in_named_volumes() -> None:
    for service in ("kafka", "postgres"):
        (volume,) = SERVICES_BLOCK[service]["volumes"]
        assert volume.split(":")[0] in COMPOSE["volumes"]
    assert SERVICES_BLOCK["postgres"]["image"] == "postgres:16"
    assert SERVICES_BLOCK["redis"]["image"].startswith("redis:7")


def test_every_substituted_variable_is_documented() -> None:
    names = {m["name"] for m in VARIABLE.finditer(COMPOSE_TEXT)}
    assert names, "expected ${VAR} substitutions"
    undocumented = sorted(n for n in names if f"`{n}`" not in README)
    assert not undocumented, f"document these in deploy/README.md: {undocumented}"


def test_readme_names_every_setting_the_compose_file_sets() -> None:
    names = {n for s in METERSTREAM for n in SERVICES_BLOCK[s]["environment"]}
    assert sorted(n for n in names if f"`{n}`" not in README) == []


def test_dockerfile_copies_only_paths_that_exist() -> None:
    context = ROOT / SERVICES_BLOCK["gateway"]["build"]["context"]
    copies = [args for instr, args in dockerfile_instructions() if instr == "COPY"]
    sources = [p for args in copies if "--from=" not in args for p in shlex.split(args)[:-1]]
    assert sources
    missing = [p for p in sources if not (context / p).exists()]
    assert not missing, f"deploy/Dockerfile copies paths missing from the repository: {missing}"


def test_dockerfile_installs_every_package_directory() -> None:
    sources = {p for instr, args in dockerfile_instructions() if instr == "COPY" and "--from=" not in args
               for p in shlex.split(args)[:-1]}
    assert {"pyproject.toml", "meterstream", "shared", "services"} <= sources


def test_dockerfile_shape() -> None:
    instructions = dockerfile_instructions()
    froms = [args for instr, args in instructions if instr == "FROM"]
    assert all(f.split()[0] == "python:3.11-slim" for f in froms)
    final = instructions[max(i for i, (instr, _) in enumerate(instructions) if instr == "FROM"):]
    users = [args for instr, args in final if instr == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert ("ENTRYPOINT", '["meterstream"]') in final
    assert ("CMD", '["service", "gateway"]') in final
    assert any(instr == "HEALTHCHECK" and "/healthz" in args for instr, args in final)
