"""Accounts on file, their contacts, and the verification events recorded against them."""
