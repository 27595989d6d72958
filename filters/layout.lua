--[==[
layout.lua: Quarto's page layout: margins, page columns, tabsets and panel layouts.

  ::: {.column-margin} / [note]{.aside}       content in the margin (LaTeX: \marginpar)
  reference-location: margin                   footnotes as margin notes (LaTeX: \sidenote)
  cap-location / fig-cap-location / tbl-cap-location: margin   captions in the margin (HTML;
                                               LaTeX: the caption in a \marginnote)
  a chapter's own reference-location / cap-location (front matter) hold for that chapter, also
  in the one-document PDF (bookbuild passes them in `crossref-chapters`)
  ::: {.column-page}, .column-screen, ...      wider than the text (HTML; the class is kept)
  ::: {.panel-tabset}                          one tab per heading; CSS-only (radio inputs)
  ::: {layout-ncol=2} / layout-nrow / layout="[[1,1],[1]]"   cells in rows
  fig-responsive (HTML, default true)          images get `img-fluid` unless they have a height;
                                               images in figures `figure-img`, figures `figure`;
                                               a cell's uncaptioned output image sits in a figure

HTML uses Quarto's class names (`column-margin`, `panel-tabset`, `tab-content`, `tab-pane`,
`quarto-layout-panel`, `quarto-layout-row`, `quarto-layout-cell`) and no script. Divs labelled
as floats (`#fig-…`, `#tbl-…`) are left to the cross-reference filter, which lays out sub-floats.
]==]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify
local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
local rules = loadfile(pandoc.path.join({ here, 'quarto_rules.lua' }))(here)  -- quarto-rules.json

local options = { footnotes_in_margin = false, captions_in_margin = {} }
local book_options = {} -- the document's settings; a chapter's own (crossref-chapters) override them
local chapters = {}     -- per level-1 heading: that chapter's layout settings, or {}
local chapter_index = 0
local tabsets = 0
local margin_notes = 0
local used = { margin = false } -- LaTeX: whether the packages for the margin are needed
local user_geometry = false
local responsive = true -- fig-responsive

local function is_latex() return FORMAT:match('latex') or FORMAT:match('beamer') end

local function latex(text) return pandoc.RawBlock('latex', text) end
local function latex_inline(text) return pandoc.RawInline('latex', text) end
local function html(text) return pandoc.RawBlock('html', text) end

local LAYOUT_KEYS = { 'reference-location', 'cap-location', 'fig-cap-location', 'tbl-cap-location' }

-- The options in force: the document's, then the current chapter's own.
local function apply(chapter)
  local function opt(key)
    local value = (chapter or {})[key]
    if value == nil then value = book_options[key] end
    return value
  end
  options.footnotes_in_margin = opt('reference-location') == 'margin'
  local all = opt('cap-location')
  options.captions_in_margin.fig = (opt('fig-cap-location') or all) == 'margin'
  options.captions_in_margin.tbl = (opt('tbl-cap-location') or all) == 'margin'
end

local function read_options(meta)
  for _, key in ipairs(LAYOUT_KEYS) do
    book_options[key] = meta[key] and stringify(meta[key]) or nil
  end
  -- bookbuild's chapter list (crossref.lua reads and removes it later): in the one-document
  -- PDF, each chapter's `reference-location` / `cap-location` from its front matter
  local list = meta['crossref-chapters']
  if list and pandoc.utils.type(list) == 'List' then
    for i, c in ipairs(list) do
      local own = {}
      if type(c) == 'table' and c.layout then
        for _, key in ipairs(LAYOUT_KEYS) do
          if c.layout[key] then own[key] = stringify(c.layout[key]) end
        end
      end
      chapters[i] = own
    end
  end
  user_geometry = meta.geometry ~= nil
  -- fig-responsive (HTML, Quarto's default true): images scale down with their column
  responsive = meta['fig-responsive'] == nil or meta['fig-responsive'] == true
      or stringify(meta['fig-responsive']) == 'true'
  apply(chapters[1])
end

local function enter_chapter(h)
  if h.level ~= 1 then return nil end
  chapter_index = chapter_index + 1
  apply(chapters[chapter_index])
end

-- Divs whose headings are no sections, as crossref.lua (and bookbuild/crossref.py) decide: a
-- callout's, a tabset's, the margin's, a theorem's or a proof's. A level-1 heading inside one
-- titles it and opens no chapter, so it must not move on to the next chapter's options.
local ASIDE_CLASSES, THEOREM_KINDS, FLOAT_KINDS = {}, {}, rules.floats
for _, c in ipairs(rules.asides) do ASIDE_CLASSES[c] = true end
for c in pairs(rules.proofs) do ASIDE_CLASSES[c] = true end
for kind in pairs(rules.theorems) do THEOREM_KINDS[kind] = true end
for kind in pairs(rules.proof_kinds) do THEOREM_KINDS[kind] = true end

local function hides_sections(div)
  local callout = false
  for _, c in ipairs(div.classes) do
    if c == 'callout' or c:match('^callout%-') then callout = true end
  end
  local kind = div.identifier:match('^(%a+)%-')
  if FLOAT_KINDS[kind] and not callout then return false end
  if callout or THEOREM_KINDS[kind] then return true end
  for _, c in ipairs(div.classes) do
    if ASIDE_CLASSES[c] then return true end
  end
  return false
end

-- Margin content ------------------------------------------------------------------------

-- LaTeX: a figure cannot float inside a \marginpar; an unlabelled one there becomes its image
-- and caption as text (crossref.lua does the same for labelled ones).
local function unfloated(blocks)
  return blocks:walk({
    Figure = function(fig)
      if fig.identifier:match('^fig%-') or fig.identifier:match('^tbl%-') then return nil end
      local out = pandoc.Blocks(fig.content)
      out:extend(fig.caption.long)
      return pandoc.Div(out)
    end,
  })
end

local function margin_div(div)
  if not (div.classes:includes('column-margin') or div.classes:includes('aside')) then return nil end
  if is_latex() then
    used.margin = true
    if div.identifier:match('^fig%-') or div.identifier:match('^tbl%-') then
      return nil -- a float in the margin: crossref.lua numbers it and puts it there
    end
    local blocks = pandoc.Blocks({ pandoc.Plain({ latex_inline('\\marginpar{\\footnotesize ') }) })
    blocks:extend(unfloated(div.content))
    blocks:insert(pandoc.Plain({ latex_inline('}') }))
    return pandoc.Div(blocks, { class = 'column-margin' }) -- as the tabset: not sections
  end
  if not div.classes:includes('column-margin') then div.classes:insert('column-margin') end
  return div
end

local function margin_span(span)
  if not (span.classes:includes('aside') or span.classes:includes('column-margin')) then return nil end
  if is_latex() then
    used.margin = true
    local out = pandoc.Inlines({ latex_inline('\\marginpar{\\footnotesize ') })
    out:extend(span.content)
    out:insert(latex_inline('}'))
    return out
  end
  if not span.classes:includes('column-margin') then span.classes:insert('column-margin') end
  return span
end

local function margin_note(note)
  if not options.footnotes_in_margin then return nil end
  margin_notes = margin_notes + 1
  local n = tostring(margin_notes)
  local text = pandoc.utils.blocks_to_inlines(note.content, { pandoc.Space() })
  if is_latex() then
    -- Quarto's PDF: a numbered sidenote (the sidenotes package) beside the line
    used.margin = true
    local out = pandoc.Inlines({ latex_inline('\\sidenote{') })
    out:extend(text)
    out:insert(latex_inline('}'))
    return out
  end
  local body = pandoc.Inlines({ pandoc.Superscript({ pandoc.Str(n) }), pandoc.Space() })
  body:extend(text)
  return {
    pandoc.Superscript({ pandoc.Str(n) }),
    pandoc.Span(body, { class = 'column-margin margin-footnote', id = 'fn-margin-' .. n }),
  }
end

-- Captions in the margin: Quarto's `margin-caption` class on the float. In LaTeX a labelled
-- figure is left to crossref.lua (it reads the class); an unlabelled one is set here: the
-- image where it stands, its caption in a \marginnote beside it (a float's \caption cannot be
-- moved to the margin reliably: classes such as KOMA's set \caption anew in every float).
local function latex_margin_figure(fig)
  local blocks = pandoc.Blocks({ latex('\\begin{center}') })
  blocks:extend(fig.content)
  local note = pandoc.Inlines({ latex_inline('\\marginnote{\\footnotesize ') })
  note:extend(pandoc.utils.blocks_to_inlines(fig.caption.long))
  note:insert(latex_inline('}'))
  local last = blocks[#blocks]
  if last.t == 'Plain' or last.t == 'Para' then last.content:extend(note) else blocks:insert(pandoc.Plain(note)) end
  blocks:insert(latex('\\end{center}'))
  return blocks
end

local function margin_caption_figure(fig)
  if not options.captions_in_margin.fig then return nil end
  fig.classes:insert('margin-caption')
  if is_latex() then
    used.margin = true
    if not fig.identifier:match('^fig%-') and #fig.caption.long > 0 then return latex_margin_figure(fig) end
  end
  return fig
end

local function margin_caption_table(tbl)
  if not options.captions_in_margin.tbl then return nil end
  tbl.classes:insert('margin-caption')
  if is_latex() and not tbl.identifier:match('^tbl%-') and #tbl.caption.long > 0 then
    -- as for figures: a labelled table is crossref.lua's, an unlabelled one is set here
    used.margin = true
    local note = pandoc.Inlines({ latex_inline('\\marginnote{\\footnotesize ') })
    note:extend(pandoc.utils.blocks_to_inlines(tbl.caption.long))
    note:insert(latex_inline('}'))
    tbl.caption = pandoc.Caption()
    return { pandoc.Plain(note), tbl }
  end
  return tbl
end

-- Tabsets -------------------------------------------------------------------------------

local function tabset(div)
  if not div.classes:includes('panel-tabset') then return nil end
  local level
  for _, b in ipairs(div.content) do
    if b.t == 'Header' then level = level and math.min(level, b.level) or b.level end
  end
  if not level then return nil end
  local tabs, preamble = {}, pandoc.Blocks({})
  for _, b in ipairs(div.content) do
    if b.t == 'Header' and b.level == level then
      tabs[#tabs + 1] = { title = b.content, id = b.identifier, content = pandoc.Blocks({}) }
    elseif #tabs > 0 then
      tabs[#tabs].content:insert(b)
    else
      preamble:insert(b)
    end
  end
  if is_latex() then
    local out = pandoc.Blocks(preamble)
    for _, tab in ipairs(tabs) do
      out:insert(pandoc.Para({ pandoc.Strong(tab.title) }))
      out:extend(tab.content)
    end
    -- kept in a div of its class (LaTeX prints only the content), so crossref.lua knows the
    -- headings inside are not sections
    return pandoc.Div(out, { class = 'panel-tabset' })
  end
  tabsets = tabsets + 1
  local name = 'tabset-' .. tabsets
  local out = pandoc.Blocks(preamble)
  local labels = {}
  for i, tab in ipairs(tabs) do
    local id = ('%s-%d'):format(name, i)
    out:insert(html(('<input type="radio" class="panel-tabset-radio" name="%s" id="%s"%s>')
      :format(name, id, i == 1 and ' checked' or '')))
    labels[#labels + 1] = ('<label class="nav-link" for="%s" role="tab">%s</label>'):format(id,
      pandoc.write(pandoc.Pandoc({ pandoc.Plain(tab.title) }), 'html'):gsub('%s+$', ''))
  end
  out:insert(html('<div class="nav nav-tabs" role="tablist">' .. table.concat(labels) .. '</div>'))
  local panes = pandoc.Blocks({})
  for i, tab in ipairs(tabs) do
    local pane_id = tab.id ~= '' and tab.id or ('%s-%d-pane'):format(name, i)
    panes:insert(pandoc.Div(tab.content, pandoc.Attr(pane_id, { 'tab-pane' }, { role = 'tabpanel' })))
  end
  out:insert(pandoc.Div(panes, { class = 'tab-content' }))
  div.content = out
  return div
end

-- Panel layouts -------------------------------------------------------------------------

local function parse_layout(spec)
  -- "[[1,1],[1]]" or "[1,1]" -> rows of widths; a negative width is a spacer
  local rows = {}
  local inner = spec:match('^%s*%[(.*)%]%s*$')
  if not inner then return nil end
  if inner:match('%[') then
    for row in inner:gmatch('%[([^%]]*)%]') do
      local widths = {}
      for w in row:gmatch('[^,%s]+') do widths[#widths + 1] = tonumber(w) or 1 end
      rows[#rows + 1] = widths
    end
  else
    local widths = {}
    for w in inner:gmatch('[^,%s]+') do widths[#widths + 1] = tonumber(w) or 1 end
    rows[1] = widths
  end
  return rows
end

local function layout_rows(div, count)
  local a = div.attributes
  if a['layout'] then return parse_layout(a['layout']) end
  local ncol = tonumber(a['layout-ncol'] or '')
  local nrow = tonumber(a['layout-nrow'] or '')
  if not ncol and nrow then ncol = math.ceil(count / nrow) end
  if not ncol then return nil end
  local rows = {}
  for i = 1, math.ceil(count / ncol) do
    local widths = {}
    for _ = 1, ncol do widths[#widths + 1] = 1 end
    rows[i] = widths
  end
  return rows
end

local function panel_layout(div)
  local a = div.attributes
  if not (a['layout'] or a['layout-ncol'] or a['layout-nrow']) then return nil end
  if div.identifier:match('^fig%-') or div.identifier:match('^tbl%-') then return nil end
  local cells = pandoc.List({})
  for _, b in ipairs(div.content) do cells:insert(b) end
  local rows = layout_rows(div, #cells)
  if not rows then return nil end
  local valign = a['layout-valign'] or 'top'
  a['layout'], a['layout-ncol'], a['layout-nrow'], a['layout-valign'] = nil, nil, nil, nil
  local next_cell = 1
  local out = pandoc.Blocks({})
  -- LaTeX: one row is minipages joined by raw text with no blank line between them (a blank
  -- line would end the paragraph and stack the cells).
  local pending = nil
  local function raw(text) pending = (pending or '') .. text end
  local function flush()
    if pending then out:insert(latex(pending)); pending = nil end
  end
  for _, widths in ipairs(rows) do
    local total = 0
    for _, w in ipairs(widths) do total = total + math.abs(w) end
    local row = pandoc.Blocks({})
    if is_latex() then raw('\\noindent') end
    for _, w in ipairs(widths) do
      local pct = 100 * math.abs(w) / total
      local content = pandoc.Blocks({})
      if w > 0 and cells[next_cell] then
        content:insert(cells[next_cell])
        next_cell = next_cell + 1
      end
      if is_latex() then
        raw(('\\begin{minipage}[%s]{%.3f\\linewidth}'):format(
          valign == 'bottom' and 'b' or (valign == 'center' and 'c' or 't'), 0.97 * pct / 100))
        flush()
        out:extend(content)
        raw('\\end{minipage}\\hfill')
      else
        row:insert(pandoc.Div(content, { class = 'quarto-layout-cell',
          style = ('flex-basis: %.1f%%; justify-content: flex-start;'):format(pct) }))
      end
    end
    if is_latex() then
      raw('\\par\\medskip')
      flush()
    else
      out:insert(pandoc.Div(row, { class = 'quarto-layout-row quarto-layout-valign-' .. valign }))
    end
  end
  -- cells beyond the layout stay, one per row
  for i = next_cell, #cells do out:insert(cells[i]) end
  if is_latex() then return out end
  div.classes:insert('quarto-layout-panel')
  div.content = out
  return div
end

-- HTML images as Quarto marks them: `img-fluid` (fig-responsive) unless the image has a
-- height (a retina plot's display size) or `data-no-responsive`; `figure-img` on an image in a
-- figure, whose <figure> has the class `figure`. A cell's output image without a caption is
-- put in a <figure> too, as Quarto does for its CSS (floats are crossref.lua's).
-- Real Quarto (the extension) marks its images itself, after its own filters.
local quarto_marks_images = type(rawget(_G, 'quarto')) == 'table'

local function add_class(el, class)
  if not el.classes:includes(class) then el.classes:insert(class) end
end

local function responsive_image(img)
  if is_latex() or not responsive or quarto_marks_images then return nil end
  if img.attributes.height or img.attributes['data-no-responsive'] then return nil end
  add_class(img, 'img-fluid')
  return img
end

local function in_figure(blocks)
  return blocks:walk({ Image = function(img) add_class(img, 'figure-img'); return img end })
end

local function figure_classes(fig)
  if is_latex() or quarto_marks_images then return nil end
  add_class(fig, 'figure')
  fig.content = in_figure(fig.content)
  return fig
end

local function output_figure(div)
  if is_latex() or quarto_marks_images or not div.classes:includes('cell-output-display') then
    return nil
  end
  local changed = false -- every image of the cell, not only its first (a loop's several plots)
  for i, block in ipairs(div.content) do
    if block.t == 'Para' then
      local image = nil
      for _, inline in ipairs(block.content) do
        local img = inline.t == 'Image' and inline
            or (inline.t == 'Link' and #inline.content == 1 and inline.content[1].t == 'Image'
                and inline.content[1])
        if img then image = img; break end
      end
      if image and not (image.identifier or ''):match('^fig%-') then
        div.content[i] = pandoc.Div(in_figure(pandoc.Blocks({
          pandoc.RawBlock('html', '<figure class="figure">'), block,
          pandoc.RawBlock('html', '</figure>') })))
        changed = true
      end
    end
  end
  return changed and div or nil
end

-- HTML: a table rebuilt from a cell's HTML output (`.html-table`, bookbuild's mark) takes its
-- natural column widths, as Quarto's, which reads the HTML table itself; the grid table it
-- went through would give it relative widths (a squeezed <colgroup>). Print keeps them.
local function html_table_widths(div)
  if not div.classes:includes('html-table') then return nil end
  div.classes = div.classes:filter(function(c) return c ~= 'html-table' end)
  if is_latex() then return div end
  return div:walk({ Table = function(tbl)
    for i, spec in ipairs(tbl.colspecs) do tbl.colspecs[i] = { spec[1], pandoc.ColWidthDefault } end
    return tbl
  end })
end

-- LaTeX: what the margin needs, brought by the filter (as Quarto's PDF does): sidenotes for
-- notes and captions, marginfix so margin notes never fall off the page, and a margin wide
-- enough to read unless the author set the geometry.
local MARGIN_PACKAGES = [[
\usepackage{sidenotes}
\usepackage{marginfix}
]]
local MARGIN_GEOMETRY = [[
\usepackage{geometry}
\geometry{left=1in,textwidth=4.4in,marginparsep=0.3in,marginparwidth=1.9in}
]]

local function add_packages(meta)
  if not (is_latex() and used.margin) then return nil end
  local includes = meta['header-includes']
  if includes == nil then
    includes = pandoc.List()
  elseif pandoc.utils.type(includes) ~= 'List' then
    includes = pandoc.List({ includes })
  end
  local tex = MARGIN_PACKAGES .. (user_geometry and '' or MARGIN_GEOMETRY)
  includes:insert(pandoc.MetaBlocks({ latex(tex) }))
  meta['header-includes'] = includes
  return meta
end

-- In document order, so that each chapter's own options hold from its heading on; inside an
-- aside the same, except that no heading there enters a chapter.
local inside_aside = { traverse = 'topdown', Div = margin_div, Span = margin_span,
                       Note = margin_note, Figure = margin_caption_figure, Table = margin_caption_table }
local in_order = { traverse = 'topdown', Header = enter_chapter, Span = margin_span,
                   Note = margin_note, Figure = margin_caption_figure, Table = margin_caption_table }
function in_order.Div(div)
  if not hides_sections(div) then return margin_div(div) end
  div.content = div.content:walk(inside_aside)
  return margin_div(div) or div, false
end

return {
  { Meta = read_options },
  { Div = function(div)
      return tabset(div) or panel_layout(div) or output_figure(div) or html_table_widths(div)
    end,
    Image = responsive_image, Figure = figure_classes },
  in_order,
  { Meta = add_packages },
}
