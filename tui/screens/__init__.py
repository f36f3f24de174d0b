"""The dashboard's screens: the main one (`dashboard`) and those pushed over it: detail, help,
confirmation."""
