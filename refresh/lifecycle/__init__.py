"""A tenant's lifecycle as system operations on the write client: export a tenant to a
file, import (restore or move) it, erase it. Which tables hold a tenant's rows, and in
which order, comes from the table declarations (refresh/tenancy), never from a list here.
"""
