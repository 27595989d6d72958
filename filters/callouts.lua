--[[
callouts.lua: `::: {.callout-TYPE title="..."}` blocks as labelled, coloured boxes.

Quarto's five types are built in; more are declared in the metadata, read once and removed:

  callout-types:
    takeaways: {label: "Takeaways", color: "#6f42c1"}

HTML gets `div.callout.callout-TYPE` with a title bar and a body (styled by the page CSS
through `--callout-color`); LaTeX gets a tcolorbox (the document must load tcolorbox).
A title containing markdown is parsed as markdown.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify

local TYPES = {
  note      = { label = 'Note',      color = '#0b5cad' },
  tip       = { label = 'Tip',       color = '#1a7f37' },
  warning   = { label = 'Warning',   color = '#b35900' },
  caution   = { label = 'Caution',   color = '#c2410c' },
  important = { label = 'Important', color = '#b91c1c' },
}

local function read_options(meta)
  for name, spec in pairs(meta['callout-types'] or {}) do
    TYPES[name] = {
      label = spec.label and stringify(spec.label) or (name:sub(1, 1):upper() .. name:sub(2)),
      color = spec.color and stringify(spec.color) or '#555555',
    }
  end
  meta['callout-types'] = nil
  return meta
end

local function callout_type(div)
  for _, class in ipairs(div.classes) do
    local name = class:match('^callout%-(.+)$')
    if name then return name end
  end
end

local function title_inlines(div)
  local title = div.attributes['title']
  if not title or title == '' then return nil end
  local blocks = pandoc.read(title, 'markdown').blocks
  return blocks[1] and blocks[1].content or pandoc.Inlines(title)
end

local function latex(text) return pandoc.RawBlock('latex', text) end

local function as_latex(inlines)
  return pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), 'latex'):gsub('%s+$', '')
end

local function Div(div)
  local name = callout_type(div)
  if not name then return nil end
  local spec = TYPES[name]
  if not spec then
    io.stderr:write(('callouts.lua: unknown callout type "%s"; declare it under callout-types\n'):format(name))
    spec = { label = name, color = '#555555' }
    TYPES[name] = spec -- warn once per type
  end
  local title = title_inlines(div)

  if FORMAT:match('latex') then
    local heading = spec.label
    if title then heading = heading .. ': ' .. as_latex(title) end
    local color = spec.color:gsub('#', '')
    local blocks = pandoc.Blocks({
      latex(('\\definecolor{callout%s}{HTML}{%s}'):format(name:gsub('[^%a]', ''), color)),
      latex(('\\begin{tcolorbox}[colback=callout%s!5!white,colframe=callout%s,'
        .. 'fonttitle=\\bfseries,title={%s}]'):format(name:gsub('[^%a]', ''), name:gsub('[^%a]', ''), heading)),
    })
    blocks:extend(div.content)
    blocks:insert(latex('\\end{tcolorbox}'))
    return blocks
  end

  local header = pandoc.Inlines({ pandoc.Span(pandoc.Inlines(spec.label), { class = 'callout-label' }) })
  if title then
    header:insert(pandoc.Space())
    header:insert(pandoc.Span(title, { class = 'callout-title-text' }))
  end
  local attr = pandoc.Attr(div.identifier, { 'callout', 'callout-' .. name },
    { style = '--callout-color: ' .. spec.color, ['data-callout'] = name })
  return pandoc.Div({
    pandoc.Div({ pandoc.Plain(header) }, { class = 'callout-title' }),
    pandoc.Div(div.content, { class = 'callout-body' }),
  }, attr)
end

return {
  { Meta = read_options },
  { Div = Div },
}
