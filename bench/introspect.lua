-- wrk: POST /oauth/introspect with the service key; TOKEN and KEY come from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Tessera-Key"] = os.getenv("KEY")
wrk.body = "token=" .. os.getenv("TOKEN")
