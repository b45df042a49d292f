-- Appended by scripts/bench/reads.sh after reads.lua for its runs at a fixed arrival rate: each connection waits
-- a random (exponential) time before its next request, so the connections together send requests as a Poisson
-- stream of READ_RATE per second. With many connections each waits far longer than a request takes, so the rate
-- does not depend on the server's speed (an open load, unlike wrk's usual back-to-back requests), and a request
-- that waits measures the server's queueing, not the load generator's.
local rate = tonumber(os.getenv("READ_RATE"))
local connections = tonumber(os.getenv("READ_CONNECTIONS"))
function delay()
  return -math.log(1 - math.random()) * connections * 1000 / rate
end
