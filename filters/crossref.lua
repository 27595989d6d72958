--[[
crossref.lua: Quarto's cross-references for plain pandoc: numbered sections, figures, tables,
listings, equations and callouts, sub-figures and sub-tables, and `@label` references.

What it numbers (in document order; counters restart at every chapter):
  sections     headings; `.unnumbered` or `-` opt out; `number-depth` limits the levels
  floats       `![cap](img){#fig-x}` (also inside a link, or with `#tbl-x`), tables with
               `: cap {#tbl-x}`, `::: {#fig-x}` / `::: {#tbl-x}` / `::: {#lst-x}` divs (caption
               from `fig-cap=`/`tbl-cap=`/`lst-cap=` or the div's last paragraph), code blocks
               `{#lst-x lst-cap="..."}`; a labelled float inside another of its kind is a
               sub-float, numbered (a), (b), ... after `subref-labels`
  equations    `$$ ... $$ {#eq-x}`
  callouts     `::: {.callout-tip #tip-x}` (and nte-, wrn-, imp-, cau-)
  theorems     `::: {#thm-x}` (and lem-, cor-, prp-, cnj-, def-, exm-, exr-, alg-), named by a
               `name=` attribute or a first heading; proofs `::: {.proof}` / `.remark` /
               `.solution`, numbered when labelled `#rem-x` / `#sol-x`. HTML: Quarto's
               `div.theorem.<env>` with `span.theorem-title`, `div.proof` with
               `span.proof-title`; LaTeX: amsthm environments (the filter declares them)
  Headings inside tabsets, margin content, theorems and proofs are not sections (a level-1
  one opens no chapter; LaTeX leaves them out of the contents). A callout's headings are
  sections, as in Quarto (left out of an HTML page's contents), but for a first heading that
  titles a callout given no `title`. Only Quarto's callout classes (and `callout-types`) are
  callouts: another `.callout-x` is a plain div.

References: `@fig-x` reads "Figure 1.2", `@Fig-x` capitalises the prefix, `-@fig-x` is the
number alone, and a sub-float reads "Figure 1.2 (a)". HTML gets Quarto's structure and classes
(`quarto-float`, `quarto-float-caption`, `quarto-subfloat-*`, `quarto-layout-*`, links of class
`quarto-xref`); LaTeX gets figures, tables and `\tag`ged equations with the same numbers.

Options, read once from the metadata and then removed:
  crossref           Quarto's options: fig-prefix, fig-title, tbl-*, eq-*, lst-*, title-delim,
                     fig-labels / tbl-labels / ... (arabic, roman, Roman, alpha x, ALPHA X),
                     subref-labels, ref-hyperlink, chapters
  number-depth       deepest heading level that gets a number (default 6)
  crossref-chapters  the number of each chapter, in the order of the level-1 headings ("1",
                     "A", or "" for an unnumbered one), or maps {number, depth, continue};
                     `continue`: an unnumbered heading inside a chapter, whose numbering goes
                     on across it; `bare`: a title shown without its number (a book's index
                     page: sections 0.1, 0.2); a single string for a one-chapter document
  crossref-index     path of a JSON file {label: {kind, number, href}} for the whole book, so
                     references across chapters resolve; labels not in it are looked up here
  crossref-external  map label -> {url, title} for labels that live outside this book
  crossref-document  true for a document that is no book's chapter: level-1 headings are
                     sections like the others ("1", "1.2", only with `number-sections: true`,
                     as pandoc numbers them) and floats take no chapter prefix ("Figure 2")

An unknown label renders visibly as `?@label` (class `quarto-unresolved-ref`); bookbuild reports
it with its file and line before pandoc runs. Raw LaTeX `\ref{label}` prints our number in
every format.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify

-- How a reference to a whole chapter or appendix reads (Quarto's ch- and apx-prefix): no
-- label kinds of their own, so `@ch-x` stays a citation.
local CHAPTER_PREFIXES = { ch = 'Chapter', apx = 'Appendix' }
-- Quarto's rules, shared with the other filters and bookbuild's checks (quarto-rules.json):
-- the label kinds and their names, the theorem kinds (the LaTeX environment, also the HTML
-- class beside `theorem`, and the amsthm style, in the preamble's order), the numbered proofs
-- (`#rem-`/`#sol-`; `.proof`, `.remark`, `.solution` are otherwise unnumbered) and callouts.
local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
local rules = loadfile(pandoc.path.join({ here, 'quarto_rules.lua' }))(here)
local NAMES, THEOREMS, THEOREM_ORDER = rules.kinds, rules.theorems, rules.theorem_order
local PROOFS, PROOF_KINDS = rules.proofs, rules.proof_kinds
local FLOATS, CALLOUTS = rules.floats, rules.callout_kinds
local NBSP = '\u{a0}'

local html = FORMAT:match('html') ~= nil
local latex = FORMAT:match('latex') ~= nil or FORMAT:match('beamer') ~= nil

-- The classes Quarto makes a callout of; any other `.callout-x` is a plain div. Types the
-- book declares (`callout-types`, which callouts.lua draws) are added by read_options.
local CALLOUT_CLASSES = rules.callout_classes
local declared_callouts = {}

local options = {
  chapters = {}, chapter = '', depth = 6, index = {}, external = {},
  prefix = {}, title = {}, labels = {}, delim = ':', subref = 'alpha a', hyperlink = true,
  with_chapter = true,
}

local function bool(value, default)
  if value == nil then return default end
  if type(value) == 'boolean' then return value end
  return stringify(value) == 'true'
end

-- LaTeX: the captions carry our numbers, so LaTeX must not print its own (also for sub-figures).
local LATEX_HEADER = [[
\usepackage{caption}
\usepackage{subcaption}
\captionsetup{labelformat=empty, labelsep=none}
\captionsetup[sub]{labelformat=empty, labelsep=none}
]]

local function add_latex_header(meta)
  local includes = meta['header-includes']
  if includes == nil then
    includes = pandoc.List()
  elseif pandoc.utils.type(includes) ~= 'List' then
    includes = pandoc.List({ includes })
  end
  includes:insert(pandoc.MetaBlocks({ pandoc.RawBlock('latex', LATEX_HEADER) }))
  meta['header-includes'] = includes
end

-- Quarto's `crossref:` options as one set; a chapter may bring its own (its front matter, merged
-- over the book's by bookbuild), which holds from its level-1 heading on.
local function crossref_options(cr)
  local o = { prefix = {}, title = {}, labels = {}, delim = ':', subref = 'alpha a',
              hyperlink = true, with_chapter = true,
              appendix_title = 'Appendix', appendix_delim = ' —' }
  for kind, name in pairs(NAMES) do o.prefix[kind], o.title[kind], o.labels[kind] = name, name, 'arabic' end
  for kind, name in pairs(CHAPTER_PREFIXES) do o.prefix[kind] = name end
  if type(cr) ~= 'table' or pandoc.utils.type(cr) == 'List' then return o end
  for kind in pairs(CHAPTER_PREFIXES) do
    if cr[kind .. '-prefix'] then o.prefix[kind] = stringify(cr[kind .. '-prefix']) end
  end
  if cr['appendix-title'] then o.appendix_title = stringify(cr['appendix-title']) end
  if cr['appendix-delim'] then o.appendix_delim = stringify(cr['appendix-delim']) end
  for kind in pairs(NAMES) do
    if cr[kind .. '-prefix'] then o.prefix[kind] = stringify(cr[kind .. '-prefix']) end
    if cr[kind .. '-title'] then o.title[kind] = stringify(cr[kind .. '-title']) end
    if cr[kind .. '-labels'] then o.labels[kind] = stringify(cr[kind .. '-labels']) end
  end
  if cr['title-delim'] then o.delim = stringify(cr['title-delim']) end
  if cr['subref-labels'] then o.subref = stringify(cr['subref-labels']) end
  o.hyperlink = bool(cr['ref-hyperlink'], true)
  o.with_chapter = bool(cr['chapters'], true)
  return o
end

local function use(set)
  for key, value in pairs(set) do options[key] = value end
end

local function read_options(meta)
  if latex then add_latex_header(meta) end
  options.book = crossref_options(meta.crossref)
  use(options.book)
  if meta['number-depth'] then options.depth = tonumber(stringify(meta['number-depth'])) or 6 end
  local chapters = meta['crossref-chapters']
  if chapters and pandoc.utils.type(chapters) == 'List' then
    for i, c in ipairs(chapters) do
      if type(c) == 'table' and c.number ~= nil then
        options.chapters[i] = { number = stringify(c.number),
                                depth = tonumber(stringify(c.depth or '')),
                                crossref = c.crossref and crossref_options(c.crossref),
                                part = c.part == true, appendix = c.appendix == true,
                                continues = c['continue'] == true, bare = c.bare == true }
      else
        options.chapters[i] = { number = stringify(c) }
      end
    end
  elseif chapters then
    options.chapters = { { number = stringify(chapters) } }
  end
  for name in pairs(meta['callout-types'] or {}) do declared_callouts['callout-' .. name] = true end
  options.document = bool(meta['crossref-document'], false)
  options.numbered = bool(meta['number-sections'], not options.document)
  if bool(meta['number-sections'], true) == false and #options.chapters == 0 then
    options.chapters = { { number = '' } }
  end
  local path = meta['crossref-index'] and stringify(meta['crossref-index'])
  if path and path ~= '' then
    local f = io.open(path, 'r')
    if not f then error('crossref.lua: cannot read crossref-index ' .. path) end
    options.index = pandoc.json.decode(f:read('a'), false)
    f:close()
  end
  for label, entry in pairs(meta['crossref-external'] or {}) do
    options.external[label] = { url = stringify(entry.url or ''), title = stringify(entry.title or label) }
  end
  for _, key in ipairs({ 'crossref', 'crossref-chapters', 'crossref-index', 'crossref-external',
                         'crossref-document' }) do
    meta[key] = nil
  end
  return meta
end

--- Label schemes: arabic 1, roman i, Roman I, alpha a (or "alpha x": start at x), ALPHA A.
local ROMAN = { { 1000, 'm' }, { 900, 'cm' }, { 500, 'd' }, { 400, 'cd' }, { 100, 'c' }, { 90, 'xc' },
                { 50, 'l' }, { 40, 'xl' }, { 10, 'x' }, { 9, 'ix' }, { 5, 'v' }, { 4, 'iv' }, { 1, 'i' } }

local function label_for(n, scheme)
  local name, start = scheme:match('^(%a+)%s*(%S*)$')
  name = name or 'arabic'
  if name == 'roman' or name == 'Roman' then
    local out = ''
    for _, pair in ipairs(ROMAN) do
      while n >= pair[1] do out, n = out .. pair[2], n - pair[1] end
    end
    return name == 'Roman' and out:upper() or out
  elseif name:lower() == 'alpha' then
    local first = (start ~= '' and start or (name == 'alpha' and 'a' or 'A')):byte()
    return string.char(first + n - 1)
  end
  return tostring(n)
end

local function kind_of(label)
  return label:match('^(%a+)%-')
end

--- Numbering state, in document order.
local counters = { 0, 0, 0, 0, 0, 0 }
local counts = {}
local local_index = {}

local function next_number(kind)
  counts[kind] = (counts[kind] or 0) + 1
  local n = label_for(counts[kind], options.labels[kind])
  if options.with_chapter and options.chapter ~= '' then return options.chapter .. '.' .. n end
  return n
end

local function caption_label(kind, number)
  return options.title[kind] .. NBSP .. number .. options.delim
end

-- Inlines of a caption with a label in front ("Figure 1.2: ..."); the label alone if empty.
local function labelled(label, inlines)
  local out = pandoc.Inlines({ pandoc.Str(label) })
  if inlines and #inlines > 0 then
    out:insert(pandoc.Space())
    out:extend(inlines)
  end
  return out
end

local function caption_inlines(blocks)
  local out = pandoc.Inlines({})
  for i, b in ipairs(blocks or {}) do
    if i > 1 then out:insert(pandoc.Space()) end
    if b.content and pandoc.utils.type(b.content) == 'Inlines' then out:extend(b.content) end
  end
  return out
end

--- Floats: one record {kind, id, content, caption (Inlines), attr} from any of the forms.
local function parse_caption(text)
  if not text or text == '' then return pandoc.Inlines({}) end
  local blocks = pandoc.read(text, 'markdown').blocks
  return caption_inlines(blocks)
end

local function alt_text(blocks, alt)
  if not alt or alt == '' then return blocks end
  return pandoc.Blocks(blocks):walk({
    Image = function(img)
      img.caption = pandoc.Inlines(alt)
      img.attributes['fig-alt'] = nil
      return img
    end,
  })
end

local LAYOUT_KEYS = { 'layout-ncol', 'layout-nrow', 'layout', 'layout-align', 'layout-valign' }

local function float_from_div(div, kind)
  local attr = div.attributes
  local caption, content = nil, div.content
  local cap = attr[kind .. '-cap']
  if cap then
    caption = parse_caption(cap)
  elseif #content > 1 and content[#content].t == 'Para' then
    caption = content[#content].content
    content = pandoc.Blocks({ table.unpack(content, 1, #content - 1) })
  end
  -- A table alone in its div lends the div its caption.
  if not caption and kind == 'tbl' and #content == 1 and content[1].t == 'Table' then
    caption = caption_inlines(content[1].caption.long)
    content[1].caption = pandoc.Caption()
  end
  local layout = {}
  for _, key in ipairs(LAYOUT_KEYS) do layout[key] = attr[key]; attr[key] = nil end
  attr[kind .. '-cap'] = nil
  content = alt_text(content, attr['fig-alt'])
  attr['fig-alt'] = nil
  return { kind = kind, id = div.identifier, content = pandoc.Blocks(content),
           caption = caption or pandoc.Inlines({}), classes = div.classes, layout = layout }
end

local function float_from_figure(fig, kind)
  local content = fig.content:walk({
    Image = function(img)
      local alt = img.attributes['fig-alt']
      if alt then
        img.caption = pandoc.Inlines(alt)
        img.attributes['fig-alt'] = nil
      end
      return img
    end,
  })
  return { kind = kind, id = fig.identifier, content = content,
           caption = caption_inlines(fig.caption.long), classes = fig.classes, layout = {} }
end

-- `[![cap](img){#fig-x}](url)`: pandoc leaves a linked image in a paragraph; it is a figure.
local function float_from_linked_image(para)
  local only = #para.content == 1 and para.content[1]
  if not (only and only.t == 'Link' and #only.content == 1 and only.content[1].t == 'Image') then
    return nil
  end
  local img = only.content[1]
  local kind = kind_of(img.identifier)
  if not (kind == 'fig' or kind == 'tbl') then return nil end
  local id, caption = img.identifier, img.caption
  img.identifier = ''
  img.caption = pandoc.Inlines(img.attributes['fig-alt'] or '')
  img.attributes['fig-alt'] = nil
  return { kind = kind, id = id, content = pandoc.Blocks({ pandoc.Plain({ only }) }),
           caption = caption, classes = pandoc.List(), layout = {} }
end

local function float_from_code(code)
  local cap = code.attributes['lst-cap']
  code.attributes['lst-cap'] = nil
  local id = code.identifier
  code.identifier = ''
  return { kind = 'lst', id = id, content = pandoc.Blocks({ code }), caption = parse_caption(cap),
           classes = pandoc.List(), layout = {} }
end

--- HTML structure of a float, as Quarto writes it.
local function raw(text) return pandoc.RawBlock('html', text) end

local function caption_location(kind)
  return (kind == 'tbl' or kind == 'lst') and 'top' or 'bottom'
end

local function html_float(f, sub)
  local cap_id = f.id .. '-caption'
  local where = caption_location(f.kind)
  local role = sub and 'quarto-subfloat' or 'quarto-float'
  local cap_classes = ('quarto-float-caption-%s %s-caption %s-%s'):format(where, role, role, f.kind)
  local caption = pandoc.List({
    raw(('<figcaption class="%s" id="%s">'):format(cap_classes, cap_id)),
    pandoc.Plain(f.caption),
    raw('</figcaption>'),
  })
  local body = pandoc.List({ raw(('<div aria-describedby="%s">'):format(cap_id)) })
  -- every image in a <figure> is a `figure-img`, as Quarto marks them (TikZ ones too)
  body:extend(pandoc.Blocks(f.content):walk({ Image = function(img)
    if not img.classes:includes('figure-img') then img.classes:insert('figure-img') end
    return img
  end }))
  body:insert(raw('</div>'))
  local inner = pandoc.List({ raw(('<figure class="quarto-float %s-%s figure">'):format(role, f.kind)) })
  if where == 'top' then inner:extend(caption); inner:extend(body) else inner:extend(body); inner:extend(caption) end
  inner:insert(raw('</figure>'))
  local classes = pandoc.List({ 'quarto-float', 'quarto-figure', 'quarto-figure-center', 'anchored' })
  for _, c in ipairs(f.classes or {}) do
    -- `figure`: layout.lua's mark on a pandoc Figure, here on the inner <figure>
    if c ~= 'figure' and not classes:includes(c) then classes:insert(c) end
  end
  return pandoc.Div(inner, pandoc.Attr(f.id, classes))
end

-- Sub-floats laid out in rows: `layout-ncol`, `layout-nrow`, or `layout="[[1,1],[1]]"`.
local function layout_rows(f, cells)
  local widths = {}
  local spec = f.layout.layout
  if spec then
    local ok, rows = pcall(pandoc.json.decode, spec)
    if ok and type(rows) == 'table' then
      for _, row in ipairs(rows) do
        local total = 0
        for _, w in ipairs(row) do total = total + math.abs(w) end
        local out = {}
        for _, w in ipairs(row) do out[#out + 1] = 100 * math.abs(w) / total end
        widths[#widths + 1] = out
      end
    end
  end
  if #widths == 0 then
    local ncol = tonumber(f.layout['layout-ncol'] or '')
    local nrow = tonumber(f.layout['layout-nrow'] or '')
    if not ncol then ncol = nrow and math.ceil(#cells / nrow) or #cells end
    ncol = math.max(ncol, 1)
    for i = 1, #cells, ncol do
      local out = {}
      for _ = i, math.min(i + ncol - 1, #cells) do out[#out + 1] = 100 / ncol end
      widths[#widths + 1] = out
    end
  end
  local blocks, k = pandoc.List(), 1
  for _, row in ipairs(widths) do
    blocks:insert(raw('<div class="quarto-layout-row">'))
    for _, w in ipairs(row) do
      if k > #cells then break end
      local cell = cells[k]
      local cls = cell.sub and 'quarto-layout-cell-subref quarto-layout-cell' or 'quarto-layout-cell'
      local parent = cell.sub and (' data-ref-parent="%s"'):format(f.id) or ''
      blocks:insert(raw(('<div class="%s"%s style="flex-basis: %.1f%%;justify-content: center;">')
        :format(cls, parent, w)))
      blocks:extend(cell.blocks)
      blocks:insert(raw('</div>'))
      k = k + 1
    end
    blocks:insert(raw('</div>'))
  end
  return blocks
end

-- LaTeX, `cap-location: margin` (layout.lua marks the figure `margin-caption`): the image where
-- it stands and its caption in a \marginnote beside it, with the label for references. Not a
-- float's \caption: classes such as KOMA's set \caption anew in every float.
local used_margin = false

local function latex_margin_figure(f)
  used_margin = true
  local blocks = pandoc.Blocks({ pandoc.RawBlock('latex', '\\begin{center}\\phantomsection\\label{' .. f.id .. '}') })
  blocks:extend(f.content)
  local note = pandoc.Inlines({ pandoc.RawInline('latex', '\\marginnote{\\footnotesize ') })
  note:extend(f.caption)
  note:insert(pandoc.RawInline('latex', '}'))
  local last = blocks[#blocks]
  if last.t == 'Plain' or last.t == 'Para' then last.content:extend(note) else blocks:insert(pandoc.Plain(note)) end
  blocks:insert(pandoc.RawBlock('latex', '\\end{center}'))
  return pandoc.Div(blocks)
end

-- LaTeX, a float in the margin (`::: {#fig-x .column-margin}`, or a labelled figure inside
-- margin content): a float cannot sit in a \marginpar, so the image and its caption go there
-- as text, with the label for references (Quarto's PDF puts them in the margin too).
local in_margin = 0 -- how many margin asides enclose the blocks being walked

local function latex_float_in_margin(f)
  used_margin = true
  local blocks = pandoc.Blocks({})
  local open = '\\phantomsection\\label{' .. f.id .. '}'
  if in_margin == 0 then open = '\\marginpar{\\footnotesize ' .. open end
  blocks:insert(pandoc.Plain({ pandoc.RawInline('latex', open) }))
  blocks:extend(pandoc.Blocks(f.content):walk({
    Figure = function(fig) -- an image's own figure inside: its image and caption, as text
      local out = pandoc.Blocks(fig.content)
      out:extend(fig.caption.long)
      return pandoc.Div(out)
    end,
  }))
  blocks:insert(pandoc.Para(f.caption))
  if in_margin == 0 then blocks:insert(pandoc.Plain({ pandoc.RawInline('latex', '}') })) end
  return pandoc.Div(blocks)
end

--- Rendering of a numbered float for the output format.
local function render_float(f, number, parent)
  local label
  if parent then
    label = '(' .. number .. ')'
  else
    label = caption_label(f.kind, number)
  end
  f.caption = labelled(label, f.caption)
  if html then
    local div = html_float(f, parent ~= nil)
    if f.panel then div.classes:insert('quarto-layout-panel') end
    return div
  end
  if not parent and (in_margin > 0 or (f.classes and f.classes:includes('column-margin'))) then
    return latex_float_in_margin(f)
  end
  if f.kind == 'tbl' and #f.content == 1 and f.content[1].t == 'Table' then
    local tbl = f.content[1]
    if tbl.classes:includes('margin-caption') or (f.classes and f.classes:includes('margin-caption')) then
      used_margin = true -- the caption in the margin beside the table's first rows
      local note = pandoc.Inlines({ pandoc.RawInline('latex',
        '\\phantomsection\\label{' .. f.id .. '}\\marginnote{\\footnotesize ') })
      note:extend(f.caption)
      note:insert(pandoc.RawInline('latex', '}'))
      return pandoc.Div({ pandoc.Plain(note), tbl })
    end
    tbl.identifier = f.id
    tbl.caption = pandoc.Caption({ pandoc.Plain(f.caption) })
    return tbl
  end
  if f.kind == 'lst' then
    local content = pandoc.List({ pandoc.Para(f.caption) })
    content:extend(f.content)
    return pandoc.Div(content, pandoc.Attr(f.id, { 'listing' }))
  end
  if f.kind == 'fig' and not parent and f.classes and f.classes:includes('margin-caption') then
    return latex_margin_figure(f)
  end
  return pandoc.Figure(f.content, pandoc.Caption({ pandoc.Plain(f.caption) }), pandoc.Attr(f.id))
end

--- The numbering walk.
local walk_blocks -- forward

local function register(id, kind, number)
  local_index[id] = { kind = kind, number = number, href = '#' .. id }
end

local current_parent = nil -- the float whose content is being walked: {id, kind, number, subs}
local asides = 0 -- how many asides (tabsets, margins, theorems) enclose the blocks being walked
local in_callout = 0 -- how many callouts enclose the blocks being walked

local function number_float(f)
  if current_parent and current_parent.kind == f.kind then
    current_parent.subs = current_parent.subs + 1
    local sub = label_for(current_parent.subs, options.subref)
    register(f.id, f.kind, current_parent.number .. ' (' .. sub .. ')')
    return render_float(f, sub, current_parent)
  end
  local number = next_number(f.kind)
  register(f.id, f.kind, number)
  local saved = current_parent
  current_parent = { id = f.id, kind = f.kind, number = number, subs = 0 }
  f.content = walk_blocks(f.content)
  local subs = current_parent.subs
  current_parent = saved
  local laid_out = false -- bookbuild lays out a cell's several plots itself (layout-ncol)
  for _, b in ipairs(f.content) do
    if b.t == 'Div' and b.classes:includes('quarto-layout-panel') then laid_out = true end
  end
  if subs > 0 and not html then
    -- LaTeX wants the sub-figures as direct children of their figure
    f.content = f.content:walk({ Div = function(d)
      for _, c in ipairs(d.classes) do if c:match('^quarto%-layout') then return d.content end end
    end })
  end
  if subs > 0 and html and laid_out then
    f.panel = true
  elseif subs > 0 and html then
    -- lay the sub-floats (and any other blocks) out in rows
    local cells = {}
    for _, b in ipairs(f.content) do
      local sub = b.t == 'Div' and b.classes:includes('quarto-float')
      cells[#cells + 1] = { blocks = pandoc.List({ b }), sub = sub }
    end
    f.content = layout_rows(f, cells)
    f.panel = true
  elseif subs > 0 and f.layout['layout-ncol'] then
    -- LaTeX: side by side when the author asked for columns
    local ncol = tonumber(f.layout['layout-ncol']) or 1
    f.content = f.content:walk({ Figure = function(fig)
      fig.attributes['width'] = string.format('%.2f\\linewidth', 0.98 / ncol)
      return fig
    end })
  end
  return render_float(f, number, nil)
end

-- A document's section: numbered from level 1 with `number-sections: true`, as pandoc does.
local function document_header(h)
  if h.classes:includes('unnumbered') or not options.numbered or h.level > options.depth then
    return h
  end
  counters[h.level] = counters[h.level] + 1
  for l = h.level + 1, #counters do counters[l] = 0 end
  local parts = {}
  for l = 1, h.level do parts[#parts + 1] = tostring(counters[l]) end
  local number = table.concat(parts, '.')
  h.content:insert(1, pandoc.Space())
  h.content:insert(1, pandoc.Span(pandoc.Inlines(number), { class = 'header-section-number' }))
  if h.identifier ~= '' then register(h.identifier, 'sec', number) end
  return h
end

local function header(h)
  -- a callout's heading is a section, but Quarto's page contents leave it out
  if in_callout > 0 and html and not h.classes:includes('unlisted') then h.classes:insert('unlisted') end
  if options.document and asides == 0 then return document_header(h) end
  if asides > 0 then
    -- no section, so not in the PDF's contents either, where a level-1 one would sit among
    -- the chapters (pandoc leaves a heading out of LaTeX's contents when both classes are set)
    if latex then
      for _, c in ipairs({ 'unnumbered', 'unlisted' }) do
        if not h.classes:includes(c) then h.classes:insert(c) end
      end
    end
    return h
  end
  if h.level == 1 then
    local i = (options.chapter_index or 0) + 1
    options.chapter_index = i
    local entry = options.chapters[i]
    -- an unnumbered level-1 heading after the chapter's title: the chapter's count goes on
    if entry and entry.continues then return h end
    if entry then
      options.chapter = entry.number
      options.chapter_depth = entry.depth
      use(entry.crossref or options.book)
    end
    if h.classes:includes('unnumbered') then options.chapter = '' end
    counts = {}
    for l = 2, #counters do counters[l] = 0 end
    if latex and entry and entry.part then
      -- a part's title page: its title opens the part, and the chapter count goes on
      local title = pandoc.write(pandoc.Pandoc({ pandoc.Plain(h.content) }), 'latex')
      local label = h.identifier ~= '' and ('\\label{' .. h.identifier .. '}') or ''
      return pandoc.RawBlock('latex', '\\part{' .. title .. '}' .. label)
    end
  end
  local depth = options.chapter_depth or options.depth
  -- a book's index page (Quarto): its title reads bare, its sections count from its "0"
  local current = h.level == 1 and options.chapters[options.chapter_index or 0]
  if current and current.bare then return h end
  if h.classes:includes('unnumbered') or options.chapter == '' or h.level > depth then
    return h
  end
  local number
  if h.level == 1 then
    number = options.chapter
  else
    counters[h.level] = counters[h.level] + 1
    for l = h.level + 1, #counters do counters[l] = 0 end
    local parts = { options.chapter }
    for l = 2, h.level do parts[#parts + 1] = tostring(counters[l]) end
    number = table.concat(parts, '.')
  end
  local entry = options.chapters[options.chapter_index or 0]
  local appendix = h.level == 1 and html and entry and entry.appendix
  h.content:insert(1, pandoc.Space())
  if appendix then  -- Quarto's "Appendix A — Title"
    h.content = pandoc.Inlines(options.appendix_delim) .. pandoc.Inlines({ pandoc.Space() }) .. h.content
  end
  h.content:insert(1, pandoc.Span(pandoc.Inlines(number), { class = 'header-section-number' }))
  if appendix then
    h.content = pandoc.Inlines(options.appendix_title) .. pandoc.Inlines({ pandoc.Space() }) .. h.content
  end
  if h.identifier ~= '' then register(h.identifier, 'sec', number) end
  return h
end

-- The label of `{#eq-x}` at inlines[j], or of `{#eq-x alt="..."}` which pandoc splits over
-- several inlines up to the closing brace (Quarto reads both), and the index of its last inline.
local function equation_label(inlines, j)
  local first = inlines[j]
  if not (first and first.t == 'Str') then return nil end
  local id = first.text:match('^{#(eq%-[%w%-_:.]+)}$')
  if id then return id, j end
  id = first.text:match('^{#(eq%-[%w%-_:.]+)$')
  if not id then return nil end
  for k = j + 1, #inlines do
    local el = inlines[k]
    if el.t == 'SoftBreak' or el.t == 'LineBreak' then return nil end
    if el.t == 'Str' and el.text:match('}$') then return id, k end
  end
  return nil
end

-- `$$ ... $$ {#eq-x}`: pandoc leaves the attribute as text after the math.
local function equations(inlines)
  local any = false
  for _, el in ipairs(inlines) do
    if el.t == 'Math' and el.mathtype == 'DisplayMath' then any = true; break end
  end
  if not any then return nil end -- most paragraphs: nothing to rebuild
  local out, i = pandoc.Inlines({}), 1
  while i <= #inlines do
    local el = inlines[i]
    if el.t == 'Math' and el.mathtype == 'DisplayMath' then
      local j = i + 1
      if inlines[j] and (inlines[j].t == 'Space' or inlines[j].t == 'SoftBreak') then j = j + 1 end
      local id, last = equation_label(inlines, j)
      if id then
        j = last
        local number = next_number('eq')
        register(id, 'eq', number)
        if latex then
          el.text = el.text .. ' \\tag{' .. number .. '}\\label{' .. id .. '}'
          out:insert(el)
        else
          el.text = el.text .. ' \\qquad(' .. number .. ')'
          out:insert(pandoc.Span({ el }, pandoc.Attr(id)))
        end
        i = j + 1
      else
        out:insert(el)
        i = i + 1
      end
    else
      out:insert(el)
      i = i + 1
    end
  end
  return out
end

-- A callout with a tip-/nte-/wrn-/imp-/cau- label is titled "Tip 1.1: title" (its `title`
-- attribute or first heading); callouts.lua, which runs after this filter, draws the box.
local function callout(div, kind)
  local number = next_number(kind)
  register(div.identifier, kind, number)
  local label = options.title[kind] .. NBSP .. number
  local title = div.attributes.title
  local first = div.content[1]
  if (not title or title == '') and first and first.t == 'Header' then
    title = pandoc.write(pandoc.Pandoc({ pandoc.Plain(first.content) }), 'markdown'):gsub('%s+$', '')
    div.content:remove(1)
  end
  div.attributes.title = (title and title ~= '') and (label .. options.delim .. ' ' .. title) or label
  if latex then
    -- the box drawn for LaTeX keeps no Div, so the label goes inside it
    div.content:insert(1, pandoc.RawBlock('latex', '\\phantomsection\\label{' .. div.identifier .. '}'))
    div.identifier = ''
  end
  return div
end

local function is_callout(div)
  for _, c in ipairs(div.classes) do
    if CALLOUT_CLASSES[c] or declared_callouts[c] then return true end
  end
  return false
end

-- A tabset (layout.lua has made it tab panes) or margin content: the headings inside are
-- tabs or notes, not sections. A callout's headings are sections, as in Quarto, but for a
-- first one that is its title.
local ASIDES = rules.asides

local function is_aside(div)
  for _, c in ipairs(ASIDES) do
    if div.classes:includes(c) then return true end
  end
  return false
end

--- Theorems and proofs, as Quarto writes them.
local used_theorems = false

-- The name: a `name` attribute, else a first heading (taken out of the body).
local function take_name(div)
  local name = div.attributes.name
  div.attributes.name = nil
  if name and name ~= '' then return parse_caption(name) end
  local first = div.content[1]
  if first and first.t == 'Header' then
    div.content:remove(1)
    return first.content
  end
  return pandoc.Inlines({})
end

-- `inlines` at the start of the div's first paragraph (a new one if it starts otherwise).
local function lead_with(div, inlines)
  local first = div.content[1]
  if first and first.t == 'Para' then
    local out = pandoc.Inlines(inlines)
    out:extend(first.content)
    first.content = out
  else
    div.content:insert(1, pandoc.Para(inlines))
  end
end

-- LaTeX: the environment numbered by us (its counter's printed form is our number).
local function latex_environment(div, env, number, name, label)
  local open = ''
  if number then open = ('\\renewcommand{\\the%s}{%s}'):format(env, number) end
  local head = pandoc.Inlines({ pandoc.RawInline('latex', open .. '\\begin{' .. env .. '}') })
  if #name > 0 then
    head:insert(pandoc.RawInline('latex', '['))
    head:extend(name)
    head:insert(pandoc.RawInline('latex', ']'))
  end
  if label then head:insert(pandoc.RawInline('latex', '\\label{' .. label .. '}')) end
  local blocks = pandoc.Blocks({})
  local first = div.content[1]
  if first and first.t == 'Para' then -- the head runs into the first paragraph, as amsthm's do
    head:insert(pandoc.RawInline('latex', ' '))
    head:extend(first.content)
    blocks:insert(pandoc.Para(head))
    blocks:extend({ table.unpack(div.content, 2) })
  else
    head:insert(pandoc.RawInline('latex', '\\leavevmode'))
    blocks:insert(pandoc.Plain(head))
    blocks:extend(div.content)
  end
  blocks:insert(pandoc.RawBlock('latex', '\\end{' .. env .. '}'))
  return blocks
end

local function theorem(div, kind)
  used_theorems = true
  local number = next_number(kind)
  register(div.identifier, kind, number)
  local name = take_name(div)
  asides = asides + 1 -- a heading inside is not a section of the page
  div.content = walk_blocks(div.content)
  asides = asides - 1
  local env = THEOREMS[kind].env
  if latex then
    return pandoc.Div(latex_environment(div, env, number, name, div.identifier))
  end
  div.classes:insert(1, 'theorem')
  if env ~= 'theorem' then div.classes:insert(2, env) end
  local title = pandoc.Inlines({ pandoc.Str(options.title[kind] .. NBSP .. number) })
  if #name > 0 then
    title:insert(pandoc.Space())
    title:insert(pandoc.Str('('))
    title:extend(name)
    title:insert(pandoc.Str(')'))
  end
  lead_with(div, { pandoc.Span({ pandoc.Strong(title) }, { class = 'theorem-title' }), pandoc.Space() })
  return div
end

local function proof_kind(div)
  local labelled = PROOF_KINDS[kind_of(div.identifier) or '']
  if labelled then return labelled end
  for _, c in ipairs(div.classes) do
    if PROOFS[c] then return c end
  end
end

local function proof(div, env)
  used_theorems = true
  local kind = kind_of(div.identifier)
  local number = PROOF_KINDS[kind or ''] and next_number(kind) or nil
  if number then register(div.identifier, kind, number) end
  local name = take_name(div)
  asides = asides + 1
  div.content = walk_blocks(div.content)
  asides = asides - 1
  if latex then
    local label = number and div.identifier or nil
    return pandoc.Div(latex_environment(div, number and ('ref' .. env) or env, number, name, label))
  end
  for _, c in ipairs({ env, 'proof' }) do
    if not div.classes:includes(c) then div.classes:insert(c) end
  end
  local word = number and (options.title[kind] .. NBSP .. number) or PROOFS[env]
  local title = pandoc.Inlines({ pandoc.Emph({ pandoc.Str(word) }) })
  if #name > 0 then
    title:insert(pandoc.Str(' ('))
    title:extend(name)
    title:insert(pandoc.Str(')'))
  end
  title:insert(pandoc.Str('.'))
  lead_with(div, { pandoc.Span(title, { class = 'proof-title' }), pandoc.Space() })
  return div
end

-- amsthm and one environment per kind, for LaTeX, when the document has any.
local function theorem_header()
  local lines = { '\\usepackage{amsthm}' }
  for _, style in ipairs({ 'plain', 'definition' }) do
    lines[#lines + 1] = '\\theoremstyle{' .. style .. '}'
    for _, kind in ipairs(THEOREM_ORDER) do
      local t = THEOREMS[kind]
      if t.style == style then
        lines[#lines + 1] = ('\\ifcsname %s\\endcsname\\else\\newtheorem{%s}{%s}\\fi')
          :format(t.env, t.env, options.book.title[kind])
      end
    end
  end
  lines[#lines + 1] = '\\theoremstyle{remark}'
  for _, kind in ipairs({ 'rem', 'sol' }) do
    local env = PROOF_KINDS[kind]
    lines[#lines + 1] = ('\\ifcsname %s\\endcsname\\else\\newtheorem*{%s}{%s}\\fi')
      :format(env, env, PROOFS[env])
    lines[#lines + 1] = ('\\newtheorem{ref%s}{%s}'):format(env, options.book.title[kind])
  end
  return table.concat(lines, '\n')
end

local function add_theorem_header(meta)
  if not (latex and (used_theorems or used_margin)) then return nil end
  local includes = meta['header-includes'] or pandoc.List()
  if pandoc.utils.type(includes) ~= 'List' then includes = pandoc.List({ includes }) end
  local tex = used_theorems and theorem_header() or ''
  if used_margin then tex = tex .. '\n\\usepackage{marginnote}' end
  includes:insert(pandoc.MetaBlocks({ pandoc.RawBlock('latex', tex) }))
  meta['header-includes'] = includes
  return meta
end

-- A callout's blocks, numbered: as in Quarto its headings are sections, but for a first one
-- standing for a missing `title` (callouts.lua makes it the title).
local function callout_body(div)
  local title = div.attributes.title
  local first = div.content[1]
  local keep = (not title or title == '') and first and first.t == 'Header'
  local rest = pandoc.Blocks({ table.unpack(div.content, keep and 2 or 1) })
  in_callout = in_callout + 1
  rest = walk_blocks(rest)
  in_callout = in_callout - 1
  if keep then rest:insert(1, first) end
  div.content = rest
  return div
end

local filter = {
  traverse = 'topdown',
  Header = header,
  Div = function(div)
    local kind = kind_of(div.identifier)
    if FLOATS[kind] and not is_callout(div) then
      return number_float(float_from_div(div, kind)), false
    end
    if THEOREMS[kind] and not is_callout(div) then return theorem(div, kind), false end
    local env = proof_kind(div)
    if env and not is_callout(div) then return proof(div, env), false end
    if CALLOUTS[kind] then div = callout(div, kind) end
    if is_callout(div) and not is_aside(div) then return callout_body(div), false end
    if is_aside(div) then
      -- floats and equations inside are numbered; headings are not sections of the page
      local margin = div.classes:includes('column-margin') or div.classes:includes('aside')
      asides = asides + 1
      if margin then in_margin = in_margin + 1 end
      div.content = walk_blocks(div.content)
      if margin then in_margin = in_margin - 1 end
      asides = asides - 1
      return div, false
    end
  end,
  Figure = function(fig)
    local kind = kind_of(fig.identifier)
    if FLOATS[kind] then return number_float(float_from_figure(fig, kind)), false end
  end,
  Table = function(tbl)
    if kind_of(tbl.identifier) ~= 'tbl' then return nil end
    local margin = tbl.classes:includes('margin-caption') -- layout.lua's, for the float's box
    local f = { kind = 'tbl', id = tbl.identifier, caption = caption_inlines(tbl.caption.long),
                classes = pandoc.List(margin and { 'margin-caption' } or {}), layout = {} }
    tbl.identifier = ''
    tbl.caption = pandoc.Caption()
    f.content = pandoc.Blocks({ tbl })
    return number_float(f), false
  end,
  CodeBlock = function(code)
    if kind_of(code.identifier) == 'lst' then return number_float(float_from_code(code)), false end
  end,
  Para = function(para)
    local f = float_from_linked_image(para)
    if f then return number_float(f), false end
    local content = equations(para.content)
    if content then
      para.content = content
      return para
    end
  end,
  Plain = function(plain)
    local content = equations(plain.content)
    if content then
      plain.content = content
      return plain
    end
  end,
}

walk_blocks = function(blocks)
  return pandoc.Blocks(blocks):walk(filter)
end

-- Whether a div's headings are no sections of the page (the filter's Div below decides alike).
local function hides_sections(div)
  if is_callout(div) then return is_aside(div) end
  local kind = kind_of(div.identifier)
  if FLOATS[kind] then return false end
  return THEOREMS[kind] ~= nil or proof_kind(div) ~= nil or is_aside(div)
end

local function number_document(doc)
  -- Before its first level-1 heading a chapter has no number yet; a document without one is
  -- all one chapter (the first of `crossref-chapters`). A level-1 heading inside an aside
  -- (or titling a callout) opens no chapter.
  local has_chapter_heading = false
  local find
  find = {
    traverse = 'topdown',
    Div = function(div)
      if hides_sections(div) then return div, false end
      local first = div.content[1]
      if is_callout(div) and (div.attributes.title or '') == '' and first and first.t == 'Header' then
        pandoc.Blocks({ table.unpack(div.content, 2) }):walk(find)
        return div, false
      end
    end,
    Header = function(h) if h.level == 1 then has_chapter_heading = true end end,
  }
  doc.blocks:walk(find)
  local first = options.chapters[1]
  options.chapter = (first and not has_chapter_heading) and first.number or ''
  if options.document then options.chapter = '' end
  options.chapter_depth = first and first.depth
  if first and first.crossref then use(first.crossref) end
  doc.blocks = walk_blocks(doc.blocks)
  return doc
end

--- References.
local function lookup(label)
  return options.index[label] or local_index[label]
end

local function unresolved(label)
  return pandoc.Span({ pandoc.Strong(pandoc.Inlines('?@' .. label)) },
    pandoc.Attr('', { 'quarto-unresolved-ref', 'xref-unresolved' }, { title = 'unresolved reference ' .. label }))
end

-- A reference to `label`: "Figure 1.2" (the number alone with `bare`), the mapped title of an
-- external label, or a visible unresolved marker.
local function reference(label, bare)
  local key = label:sub(1, 1):lower() .. label:sub(2)
  local entry = lookup(key)
  if entry then
    local text = entry.number
    if not bare then
      local prefix = options.prefix[entry.ref or entry.kind] or entry.kind
      if label:match('^%u') then prefix = prefix:sub(1, 1):upper() .. prefix:sub(2) end
      text = prefix .. NBSP .. entry.number
    end
    if not options.hyperlink then return pandoc.Str(text) end
    return pandoc.Link(pandoc.Inlines(text), entry.href, '', { class = 'quarto-xref xref' })
  end
  local ext = options.external[key]
  if ext then
    return pandoc.Link(pandoc.Inlines(ext.title), ext.url, '', { class = 'quarto-xref xref xref-external' })
  end
  return unresolved(label)
end

local function Cite(cite)
  local out = pandoc.Inlines({})
  for i, c in ipairs(cite.citations) do
    local kind = kind_of(c.id)
    if not (kind and NAMES[kind:lower()]) then return nil end -- a bibliography citation
    if i > 1 then out:insert(pandoc.Str(', ')) end
    if #c.prefix > 0 then out:extend(c.prefix); out:insert(pandoc.Space()) end
    out:insert(reference(c.id, c.mode == 'SuppressAuthor'))
    if #c.suffix > 0 then out:extend(c.suffix) end
  end
  return out
end

local function RawInline(rawel)
  if rawel.format ~= 'tex' and rawel.format ~= 'latex' then return nil end
  local label = rawel.text:match('^\\ref%{([^}]+)%}$')
  if not label then return nil end
  return reference(label, true)
end

return {
  { Meta = read_options },
  { Pandoc = number_document },
  { Cite = Cite, RawInline = RawInline },
  { Meta = add_theorem_header },
}
