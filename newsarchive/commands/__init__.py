"""newsarchive's Scrapy commands (``COMMANDS_MODULE = "newsarchive.commands"``)."""
