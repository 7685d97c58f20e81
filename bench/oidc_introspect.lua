-- wrk: oidc-provider's introspection endpoint, authenticated as the confidential client `bench`.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
wrk.body = "token=" .. os.getenv("TOKEN")
