-- Appended to creates.lua by scripts/bench/async.sh: the same creates, asking to be queued (202).
wrk.headers["Prefer"] = "respond-async"
