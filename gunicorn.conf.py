"""Gunicorn settings Arena relies on (gunicorn reads ./gunicorn.conf.py by default; command-line flags win).

Start-up work happens once: the routes and views are loaded and the long-lived objects frozen out of the garbage
collector (``arena/warmup.py``): in the master with ``--preload`` (workers inherit it), else in each worker.
"""



def when_ready(server):
    if server.cfg.preload_app:
        from arena.warmup import freeze, warm_up

        seconds = warm_up()
        server.log.info("routes loaded in %.2f s, %d objects frozen out of the GC", seconds, freeze())


def post_worker_init(worker):
    if not worker.cfg.preload_app:
        from arena.warmup import freeze, warm_up

        seconds = warm_up()
        worker.log.info("routes loaded in %.2f s, %d objects frozen out of the GC", seconds, freeze())
