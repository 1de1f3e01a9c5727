# Shortcuts; the scripts are the real thing.
.PHONY: demo test build stack-up stack-down
demo:
	scripts/demo
test:
	scripts/test
build:
	scripts/bootstrap && cmake --preset debug >/dev/null && cmake --build --preset debug
stack-up:
	scripts/stack up
stack-down:
	scripts/stack down
