"""Model Review Board, the Streamlit app: a router over thin pages in views/.

Start it with ``make run``. It binds to localhost, sends no usage statistics and makes no external
requests (.streamlit/config.toml).
"""

import streamlit as st

st.set_page_config(page_title="Model Review Board", layout="wide")
st.navigation([
    st.Page("views/findings.py", title="Findings", default=True),
]).run()
