"""Quarto's `code-copy`: a "Copy to Clipboard" button on each highlighted code block.

The button sits in the block's `div.sourceCode` after its `<pre>`, as Quarto writes it, shown
on hover (`hover`, Quarto's default) or always (`true`). A small script of ours, inline so the
page still works offline, copies the code and marks the button `code-copy-button-checked`.
"""

from __future__ import annotations

import re

BUTTON = ('<button title="Copy to Clipboard" class="code-copy-button" type="button">'
          '<span class="code-copy-icon" aria-hidden="true"></span></button>')
# a highlighted block as pandoc writes it: <div class="sourceCode..." id="cbN"><pre ...>...</pre>
BLOCK = re.compile(r'(<div class="sourceCode[^"]*"[^>]*>\s*<pre class="sourceCode)([^"]*)'
                   r'("[^>]*>.*?</pre>)', re.S)
SCRIPT = """<script>
document.addEventListener("click", function (event) {
  var button = event.target.closest(".code-copy-button");
  if (!button) return;
  var code = button.parentElement.querySelector("pre code");
  var text = code ? code.innerText : "";
  function done() {
    button.classList.add("code-copy-button-checked");
    button.title = "Copied!";
    setTimeout(function () {
      button.classList.remove("code-copy-button-checked");
      button.title = "Copy to Clipboard";
    }, 1000);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, done);
  } else {  // a page opened from disk in an older browser: select and copy
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }
});
</script>"""


def mode(config: dict | None) -> str:
    """`code-copy` for HTML, as Quarto reads it: `hover` (its default), `true` or `false`."""
    config = config if isinstance(config, dict) else {}
    formats = config.get("format") if isinstance(config.get("format"), dict) else {}
    html = formats.get("html") if isinstance(formats.get("html"), dict) else {}
    value = html.get("code-copy", config.get("code-copy", "hover"))
    if value is False or str(value).lower() in ("false", "no", "off"):
        return "false"
    return "hover" if str(value).lower() == "hover" else "true"


def with_buttons(body: str, how: str) -> tuple[str, int]:
    """`body` with a copy button in each highlighted code block, and how many it got."""
    if how == "false":
        return body, 0
    extra = " code-with-copy" + (" code-copy-always" if how == "true" else "")
    return BLOCK.subn(lambda m: f"{m.group(1)}{m.group(2)}{extra}{m.group(3)}{BUTTON}", body)
