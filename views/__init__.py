"""Streamlit pages. Only app.py and this package import streamlit."""
