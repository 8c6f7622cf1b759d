# The two commands of the README: `make run` and `make test`. Both build what they need.
SHELL := /bin/bash
PYTHON ?= python3
DATA_DIR ?= ../shared/data
VENV := .venv

MODEL := artifacts/default.pt
MODEL_END ?= 2023-12-29

# Helm, pinned, built from the Go module proxy (no Helm release download is reachable here).
HELM_VERSION := v3.17.3
HELM := .tools/helm-$(HELM_VERSION)
KUBE_VERSION := 1.30.0
# Toxiproxy, pinned, built the same way: the fault tests put it between a worker and its services.
TOXIPROXY_VERSION := v2.5.0
TOXIPROXY := .tools/toxiproxy-$(TOXIPROXY_VERSION)

# The official AsyncAPI CLI, pinned by tools/asyncapi/package-lock.json (tests/stream/test_asyncapi.py).
ASYNCAPI_CLI := tools/asyncapi/node_modules/.installed

.PHONY: setup run test test-unit system-packages model k8s docs asyncapi clean

# The six are independent, and mostly wait on the network or build Go on one core: side by side.
setup:
	$(MAKE) --no-print-directory -j6 -O $(VENV)/.installed .kafka/libs/.fetched system-packages $(HELM) $(TOXIPROXY) \
	    $(ASYNCAPI_CLI)

$(ASYNCAPI_CLI): tools/asyncapi/package-lock.json
	npm ci --prefix tools/asyncapi --no-audit --no-fund --prefer-offline
	touch $@

# The committed AsyncAPI document of the Kafka topics, generated from the schemas.
asyncapi: $(VENV)/.installed
	$(VENV)/bin/python -m stream.asyncapi > docs/asyncapi.json

$(HELM):
	mkdir -p .tools/bin
	GOBIN=$(CURDIR)/.tools/bin GOFLAGS=-mod=mod go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv .tools/bin/helm $@

$(TOXIPROXY):
	mkdir -p .tools/bin
	GOBIN=$(CURDIR)/.tools/bin GOFLAGS=-mod=mod go install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION)
	mv .tools/bin/server $@

# k8s/ is the chart rendered with its defaults, for `kubectl apply -f k8s/`; a test checks it matches.
k8s: $(HELM)
	$(HELM) template tft-forecast helm/tft-forecast --kube-version $(KUBE_VERSION) > k8s/tft-forecast.yaml

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# Apache Kafka and its runtime jars, from Maven Central (see scripts/kafka/pom.xml).
.kafka/libs/.fetched: scripts/kafka/pom.xml
	mvn -q -B -f scripts/kafka/pom.xml dependency:copy-dependencies \
	    -DoutputDirectory=$(CURDIR)/.kafka/libs -DincludeScope=runtime
	touch $@

system-packages:
	@scripts/system_packages.sh

# The retrain schedule is off here unless asked for: a demo's two cores stay with serving.
run: setup $(MODEL)
	MARKET_DATA_DIR=$(DATA_DIR) RETRAIN_DAILY_AT=$${RETRAIN_DAILY_AT:-off} RETRAIN_WEEKLY_AT=$${RETRAIN_WEEKLY_AT:-off} \
		scripts/with_services.sh $(VENV)/bin/tft-forecast up

# The served model and its ONNX graph are committed; this rebuilds them (about 6 minutes on 2 CPU cores).
$(MODEL):
	$(VENV)/bin/tft-forecast train --data-dir $(DATA_DIR) --end $(MODEL_END) --out $(MODEL)
	$(VENV)/bin/tft-forecast export $(MODEL)

model: $(VENV)/.installed
	rm -f $(MODEL) && $(MAKE) $(MODEL)

# Two processes: most tests wait on brokers, restarts and timeouts, not the CPU. The fault
# tests share one private set of services, so they keep to one process (tests/faults/conftest.py).
test: setup
	MARKET_DATA_DIR=$(DATA_DIR) scripts/with_services.sh $(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --dist loadgroup \
	    --durations=25

# The documentation site, built as tests/deploy/test_docs.py builds it: strict, into site/ (git-ignored).
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Fast tests that need no services.
test-unit: $(VENV)/.installed
	$(VENV)/bin/pytest -q -m "not integration"

clean:
	scripts/services.sh down
	rm -rf .run
