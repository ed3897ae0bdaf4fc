"""Everything Loper fetches from elsewhere goes through this package.

policy.py  which URLs may be fetched and which CA bundle verifies them (no heavy imports)
fetch.py   the one HTTP fetcher: an overall deadline per call, a size cap, no redirects or
           cookies, per-thread connection pools, and a short memory of hosts that timed out
watchdog.py  what enforces the deadline however slowly a server sends
addresses.py  for a URL someone other than the operator chose: the host resolved once, public
           addresses only, and the address checked is the one called (SSRF)
"""
