# fusionsim: the commands a developer and CI run.
GO ?= go
PKGS := ./...

.PHONY: all build test unit lint run bench scale e2e slurm-e2e k8s-validate fuzz calibration clean

all: build test

## build: compile every package and the commands into bin/
build:
	$(GO) build $(PKGS)
	$(GO) build -o bin/ ./cmd/...

## test: what CI runs (.ci/run): lint, every test with the race detector, the Kubernetes manifest, then e2e
test: lint unit k8s-validate e2e

unit:
	$(GO) test -race -count=1 $(PKGS)

## lint: go vet and gofmt
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

## run: the main job, Fusionize++ on the IoT workload in the emulator
run:
	$(GO) run ./cmd/simulate --workload iot

## bench: the speed figures: the emulator beside a bare heap event loop (the ratio), every Go benchmark, the main job's wall and CPU time, the exhaustive sweep's setups/s (SWEEP=0 skips it)
bench:
	GO=$(GO) scripts/bench.sh

## scale: streaming at scale: peak RSS of IoT remote at 1000 requests/s for 1 M, 3 M and 10 M invocations (about 10 minutes)
scale:
	GO=$(GO) scripts/scale.sh

## e2e: cmd/emulator with real clients, awscli and hey (installed from Debian when missing), about 15 s
e2e:
	GO=$(GO) scripts/e2e.sh

## k8s-validate: deploy/kubernetes/sweep.yaml decoded strictly into the Kubernetes API types (its own module)
k8s-validate:
	cd deploy/kubernetes && $(GO) vet ./... && $(GO) test -count=1 ./...

## slurm-e2e: a sharded sweep on a real single-node Slurm (slurm-wlm and munge installed from Debian when missing), about 75 s
slurm-e2e:
	GO=$(GO) timeout 900 scripts/slurm-e2e.sh

## fuzz: every fuzz target of the module (scripts/fuzz.sh finds them), FUZZTIME each (default 60s)
FUZZTIME ?= 60s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## lambda-zip: the AWS backend's function packages, bin/lambda/fusion-lambda-{x86_64,arm64}.zip
.PHONY: lambda-zip
lambda-zip:
	$(GO) run ./cmd/simulate lambda-zip --out bin/lambda

## calibration: refit the default profile on the platform experiments of ../shared/calibration (the webshop run's setups emulated for the handler's demand per local call), then print the validation table of all five (README), about 2 minutes
CAL := ../shared/calibration
PLATFORM_DIRS := $(CAL)/IoT-generateConfigurations-dualcore-I-100x10x11 $(CAL)/split-coldStarts-dualcore-4 \
	$(CAL)/split-generateConfigurations-dualcore-A-13-x-100-x-10 $(CAL)/splittest-generateConfigurations-twocores-G-12-x-100-x-10
WEBSHOP_DIR := $(CAL)/webshop-generateConfigurations-fixedcheckout-m-4-x-111-x-3
calibration:
	$(GO) run ./cmd/simulate calibrate --quiet --out model/default_profile.json --emulate $(WEBSHOP_DIR) $(PLATFORM_DIRS)
	$(GO) run ./cmd/simulate validate --quiet --format markdown $(PLATFORM_DIRS) $(WEBSHOP_DIR)

## transfer: fit each calibration directory's application on its first setup and predict the others (README: the transfer table), from the profile's figures and from the code's; then the code-change scenarios (every directory's setups emulated with changed work figures, fitted and predicted the same way), about 3 min
.PHONY: transfer
transfer:
	$(GO) run ./cmd/simulate validate --quiet --skip-unknown --format markdown --fit-on first $(CAL)/*/
	$(GO) run ./cmd/simulate validate --quiet --skip-unknown --format markdown --fit-on first --fit-from code $(CAL)/*/ | sed -n '/^| experiment | fit on/,$$p'
	$(GO) test -count=1 -v -run TestTransferScenarios ./calibrate -transfer-scenarios

clean:
	rm -rf bin/
