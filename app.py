"""Model Review Board, the Streamlit app: a router over thin pages in views/.

Start it with ``make run``. It binds to localhost, sends no usage statistics and makes no external
requests (.streamlit/config.toml); bound to another address, it serves nothing unless the
operator set it up for a shared host (``views.hosting``). The pages compute nothing themselves:
they call the engine through ``views.state`` and read the report it returns.
"""

import streamlit as st

from views.hosting import check_host
from views.state import PAGES

st.set_page_config(page_title="Model Review Board", layout="wide")
check_host()
st.navigation({
    "Prepare": [st.Page(PAGES["load"], title="1. Load", default=True),
                st.Page(PAGES["run"], title="2. Run the audit")],
    "Results": [st.Page(PAGES["findings"], title="3. Findings"),
                st.Page(PAGES["fairness"], title="4. Fairness"),
                st.Page(PAGES["explainability"], title="5. Explainability"),
                st.Page(PAGES["privacy"], title="6. Privacy")],
    "Decide": [st.Page(PAGES["review"], title="7. Review"),
               st.Page(PAGES["export"], title="8. Export")],
}).run()
