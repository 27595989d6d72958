--[[
crossref.lua: number sections, tables and figures, and turn @sec-/@fig-/@tbl- into links.

Options, read once from the document metadata and then removed:
  crossref-chapters  the number of each chapter, in the order of the level-1 headings ("1",
                     "A", or "" for an unnumbered one); a single string for a one-chapter
                     document. Counters restart at every chapter.
  crossref-index     path of a JSON file {label: {kind, number, href, title}} for the whole
                     book, so references across chapters resolve; labels not in it are looked
                     up in this document only
  crossref-external  map label -> {url, title} for labels that live outside this book

Also turns `::: {#fig-x fig-cap="..." fig-alt="..."}` divs into figures, applies `fig-alt`
to the images of a figure, and renders raw LaTeX `\ref{label}` readably outside LaTeX.
An unknown label renders visibly as `?@label` (class `xref-unresolved`); bookbuild reports
it with its file and line before pandoc runs.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify

local KIND_NAMES = { sec = 'Section', fig = 'Figure', tbl = 'Table', eq = 'Equation' }

local options = { chapters = {}, chapter = '', index = {}, external = {} }

local function read_options(meta)
  local chapters = meta['crossref-chapters']
  if chapters and pandoc.utils.type(chapters) == 'List' then
    for i, c in ipairs(chapters) do options.chapters[i] = stringify(c) end
  elseif chapters then
    options.chapters = { stringify(chapters) }
  end
  options.chapter = options.chapters[1] or ''
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
  meta['crossref-chapters'] = nil
  meta['crossref-index'] = nil
  meta['crossref-external'] = nil
  return meta
end

local function kind_of(label)
  return label:match('^(%a+)%-')
end

-- A label's number within this chapter: "1.2" when the chapter has a number, else "2".
local function numbered(n)
  if options.chapter ~= '' then return options.chapter .. '.' .. n end
  return tostring(n)
end

--- Figures written as divs become Figure elements with caption and alt text.
local function apply_alt(blocks, alt)
  if not alt or alt == '' then return blocks end
  return pandoc.walk_block(pandoc.Div(blocks), {
    Image = function(img)
      img.caption = pandoc.Inlines(alt)
      img.attributes['fig-alt'] = nil
      return img
    end,
  }).content
end

local function Div(div)
  if not div.identifier:match('^fig%-') then return nil end
  local cap = div.attributes['fig-cap']
  local caption = {}
  if cap then caption = pandoc.read(cap, 'markdown').blocks end
  local content = apply_alt(div.content, div.attributes['fig-alt'])
  return pandoc.Figure(content, caption, pandoc.Attr(div.identifier, div.classes, {}))
end

local function Figure(fig)
  fig.content = pandoc.walk_block(pandoc.Div(fig.content), {
    Image = function(img)
      local alt = img.attributes['fig-alt']
      if alt then
        img.caption = pandoc.Inlines(alt)
        img.attributes['fig-alt'] = nil
      end
      return img
    end,
  }).content
  return fig
end

--- Numbering, in document order.
local counters = { 0, 0, 0, 0, 0, 0 }
local local_index = {}

local function prefix_caption(caption, text)
  local long = caption.long
  local label = pandoc.Span(pandoc.Inlines(text), { class = 'xref-label' })
  if #long == 0 then
    long:insert(pandoc.Plain({ label }))
  else
    local first = long[1]
    first.content:insert(1, pandoc.Space())
    first.content:insert(1, label)
  end
  return caption
end

local float_counts = { fig = 0, tbl = 0 }

-- Figures and tables with a fig-/tbl- label get the next number of their kind and a caption prefix.
local function number_float(el, kind)
  if not el.identifier:match('^' .. kind .. '%-') then return nil end
  float_counts[kind] = float_counts[kind] + 1
  local number = numbered(float_counts[kind])
  local_index[el.identifier] = { kind = kind, number = number, href = '#' .. el.identifier }
  el.caption = prefix_caption(el.caption, KIND_NAMES[kind] .. ' ' .. number .. ':')
  return el
end

local function number_blocks(doc)
  local chapter_index = 0
  doc.blocks = doc.blocks:walk({
    traverse = 'topdown',
    Header = function(h)
      if h.level == 1 then
        chapter_index = chapter_index + 1
        options.chapter = options.chapters[chapter_index] or options.chapter
        if h.classes:includes('unnumbered') then options.chapter = '' end
        float_counts.fig, float_counts.tbl = 0, 0
        for l = 2, #counters do counters[l] = 0 end
      end
      if h.classes:includes('unnumbered') or options.chapter == '' then return nil end
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
      h.content:insert(1, pandoc.Space())
      h.content:insert(1, pandoc.Span(pandoc.Inlines(number), { class = 'header-section-number' }))
      if h.identifier ~= '' then
        local_index[h.identifier] = { kind = 'sec', number = number, href = '#' .. h.identifier }
      end
      return h
    end,
    Figure = function(fig) return number_float(fig, 'fig') end,
    Table = function(tbl) return number_float(tbl, 'tbl') end,
  })
  return doc
end

--- References.
local function lookup(label)
  return options.index[label] or local_index[label]
end

local function unresolved(label)
  return pandoc.Span(pandoc.Inlines('?@' .. label), { class = 'xref-unresolved', title = 'unresolved reference ' .. label })
end

-- A link to `label`: "Table 1.2" (or just "1.2" with `bare`), the mapped title of an external
-- label, or a visible unresolved marker.
local function reference(label, bare)
  local entry = lookup(label)
  if entry then
    local name = KIND_NAMES[entry.kind] or entry.kind
    local text = bare and entry.number or (name .. '\u{a0}' .. entry.number)
    return pandoc.Link(pandoc.Inlines(text), entry.href, '', { class = 'xref' })
  end
  local ext = options.external[label]
  if ext then
    return pandoc.Link(pandoc.Inlines(ext.title), ext.url, '', { class = 'xref xref-external' })
  end
  return unresolved(label)
end

local function Cite(cite)
  local out = pandoc.Inlines({})
  for i, c in ipairs(cite.citations) do
    local kind = kind_of(c.id)
    if not (kind and KIND_NAMES[kind]) then return nil end -- a bibliography citation
    if i > 1 then out:insert(pandoc.Str(', ')) end
    out:insert(reference(c.id))
  end
  return out
end

-- `\ref{label}` prints our number in every format, so HTML and PDF agree.
local function RawInline(raw)
  if raw.format ~= 'tex' and raw.format ~= 'latex' then return nil end
  local label = raw.text:match('^\\ref%{([^}]+)%}$')
  if not label then return nil end
  return reference(label, true)
end

return {
  { Meta = read_options },
  { Div = Div, Figure = Figure },
  { Pandoc = number_blocks },
  { Cite = Cite, RawInline = RawInline },
}
