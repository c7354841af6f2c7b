// Small browser helpers of the dashboard. Everything else runs on the server.
window.dashboard = {
    // localStorage may be unavailable (private windows, policies): preferences are then simply not remembered.
    get(key) {
        try { return window.localStorage.getItem(key); } catch { return null; }
    },
    set(key, value) {
        try {
            if (value === null || value === undefined) { window.localStorage.removeItem(key); }
            else { window.localStorage.setItem(key, value); }
        } catch { /* not remembered */ }
    },
    // The clipboard API needs a secure context (https or loopback) and the page's focus; false when refused.
    async copy(text) {
        try { await navigator.clipboard.writeText(text); return true; } catch { return false; }
    },
};

// "/" focuses the global search, unless the person is typing somewhere.
document.addEventListener('keydown', e => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) { return; }
    const t = e.target;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) { return; }
    const input = document.querySelector('#global-search input');
    if (input) {
        e.preventDefault();
        input.focus();
    }
});
