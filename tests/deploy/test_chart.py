"""The Helm chart, rendered by the pinned Helm `make setup` builds: lint-clean, valid
against the Kubernetes schemas, k8s/ equal to its default render, and the settings an
operator relies on there (non-root with fsGroup, probes that a database outage does not
fail, autoscaling capped at the partition count, the GPU values). The Dockerfile is
hadolint-clean."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "tft-forecast"
MAKEFILE = (ROOT / "Makefile").read_text()
PINNED = dict(re.findall(r"^(HELM_VERSION|KUBE_VERSION) := (\S+)", MAKEFILE, re.M))
HELM = ROOT / ".tools" / ("helm-" + PINNED["HELM_VERSION"])
KUBE = PINNED["KUBE_VERSION"]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def helm():
    if not HELM.exists():
        pytest.fail(f"{HELM} is missing: `make setup` builds it")
    return str(HELM)


def render(helm, *args: str, release: str = "tft-forecast") -> str:
    return subprocess.run([helm, "template", release, str(CHART), "--kube-version", KUBE, *args],
                          check=True, capture_output=True, text=True).stdout


def manifests(text: str) -> dict[str, dict]:
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(text) if d}


def validate(tmp_path, text: str, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    out = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "-k", KUBE, str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("args", [(), ("-f", str(CHART / "values-gpu.yaml")),
                                  ("--set", "autoscaling.enabled=true"), ("--set", "kafka.deploy=false",
                                                                          "--set", "kafka.bootstrapServers=k:9092")])
def test_the_chart_lints_strictly_and_renders_valid_manifests(helm, tmp_path, args):
    lint = subprocess.run([helm, "lint", "--strict", str(CHART), "--kube-version", KUBE, *args],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    validate(tmp_path, render(helm, *args), "render")


def test_k8s_is_the_default_render(helm):
    assert (ROOT / "k8s" / "tft-forecast.yaml").read_text() == render(helm), "run `make k8s`"


def test_the_workers_run_as_the_operator_expects(helm):
    m = manifests(render(helm))
    assert {"StatefulSet/tft-forecast-worker", "Service/tft-forecast-worker", "Service/tft-forecast-worker-headless",
            "ConfigMap/tft-forecast-config", "Secret/tft-forecast-secrets",
            "PodDisruptionBudget/tft-forecast-worker"} <= set(m)
    worker = m["StatefulSet/tft-forecast-worker"]
    pod = worker["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["fsGroup"] == 10001
    (c,) = pod["containers"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/live"  # not /health: PostgreSQL away restarts nothing
    assert c["readinessProbe"]["httpGet"]["path"] == "/health" and c["startupProbe"]["httpGet"]["path"] == "/live"
    assert c["securityContext"]["allowPrivilegeEscalation"] is False and c["resources"]["requests"]["cpu"]
    assert "DATABASE_URL" in m["Secret/tft-forecast-secrets"]["stringData"]
    assert "DATABASE_URL" not in m["ConfigMap/tft-forecast-config"]["data"]  # secrets stay in the Secret
    assert m["Service/tft-forecast-worker-headless"]["spec"]["clusterIP"] == "None"
    kafka = m["StatefulSet/tft-forecast-kafka"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "KAFKA_LOG_DIRS", "value": "/var/lib/kafka/data"} in kafka["env"]  # on its volume
    for d in m.values():
        assert d["metadata"]["labels"]["app.kubernetes.io/instance"] == "tft-forecast"


def test_autoscaling_is_capped_at_the_partition_count(helm):
    m = manifests(render(helm, "--set", "keda.enabled=true"))
    scaled = m["ScaledObject/tft-forecast-worker"]["spec"]
    assert scaled["maxReplicaCount"] <= 4 and {t["type"] for t in scaled["triggers"]} == {"kafka", "cpu"}
    assert all(t["metadata"]["allowIdleConsumers"] == "false" for t in scaled["triggers"] if t["type"] == "kafka")
    assert "HorizontalPodAutoscaler/tft-forecast-worker" not in m  # KEDA makes its own
    assert "replicas" not in m["StatefulSet/tft-forecast-worker"]["spec"]  # the autoscaler owns it
    for key in ("keda", "autoscaling"):
        over = subprocess.run([helm, "template", "t", str(CHART), "--kube-version", KUBE, "--set", f"{key}.enabled=true",
                               "--set", f"{key}.maxReplicas=8"], capture_output=True, text=True)
        assert over.returncode != 0 and "at most kafka.partitions" in over.stderr


def test_the_gpu_values_ask_for_a_gpu_and_use_it(helm):
    pod = manifests(render(helm, "-f", str(CHART / "values-gpu.yaml")))["StatefulSet/tft-forecast-worker"]
    spec = pod["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"] and spec["tolerations"][0]["key"] == "nvidia.com/gpu"
    config = manifests(render(helm, "-f", str(CHART / "values-gpu.yaml")))["ConfigMap/tft-forecast-config"]["data"]
    assert config["TFT_DEVICE"] == "cuda"


def test_values_outside_the_schema_are_refused(helm):
    bad = subprocess.run([helm, "template", "t", str(CHART), "--kube-version", KUBE, "--set", "replicas=0"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "replicas" in bad.stderr


def test_the_dockerfile_is_hadolint_clean():
    out = subprocess.run([str(BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
