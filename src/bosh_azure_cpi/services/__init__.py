"""Services: the only code that talks to Azure. Importing this package loads no SDK module."""
