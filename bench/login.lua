-- wrk: the password grant, to load bcrypt while forward-auth is measured.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=password&username=bench&password=" .. os.getenv("PASSWORD")
