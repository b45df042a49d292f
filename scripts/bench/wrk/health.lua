-- The ceiling: the cheapest route of the same server.
wrk.method = "GET"
