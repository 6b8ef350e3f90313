"""newsarchive's spider middlewares."""
