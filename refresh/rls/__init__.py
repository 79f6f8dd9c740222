"""The RLS tool chain: the `rls` Piccolo app, its commands and `piccolo rls check`."""

#: The Piccolo app of the RLS machinery (refresh/rls/piccolo_app.py): its migrations hold
#: the roles, the `auth` functions and the project functions.
APP_NAME = "rls"
