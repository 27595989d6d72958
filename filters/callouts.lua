--[[
callouts.lua: `::: {.callout-TYPE}` blocks as Quarto renders them.

Attributes, as Quarto reads them: `title` (markdown; else the callout's first heading; else the
type's name), `appearance` (default | simple | minimal), `icon` (true | false),
`collapse` (true | false: a <details> element, open when false, no script). A plain
`::: {.callout}` is untyped (simple, no icon). Document options: `callout-appearance`,
`callout-icon`, and `language: {callout-TYPE-title: ...}` for the default titles.

Quarto's five types are built in; more are declared in the metadata, read once and removed
(any other `.callout-x` class leaves its div a plain div, as in Quarto):

  callout-types:
    takeaways: {label: "Takeaways", color: "#6f42c1"}

HTML gets Quarto's structure (`div.callout.callout-TYPE.callout-style-*`, `.callout-header`
with `.callout-icon-container` and `.callout-title-container`, `.callout-body-container`)
with the type's colour in `--callout-color`; LaTeX gets a tcolorbox, and the filter adds the
packages it needs to the preamble itself, so it works from plain pandoc.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify

local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
local rules = loadfile(pandoc.path.join({ here, 'quarto_rules.lua' }))(here)  -- quarto-rules.json
-- Quarto's types (quarto-rules.json); read_options adds the declared ones to this load's table.
local TYPES = rules.callout_types
local BUILTIN = {}
for name in pairs(TYPES) do BUILTIN[name] = true end
local UNTYPED = { label = '', color = '#6c757d' }

local options = { appearance = 'default', icon = true, titles = {} }
local used_latex = false
local collapse_count = 0

local function truthy(value, default)
  if value == nil then return default end
  local text = type(value) == 'boolean' and tostring(value) or stringify(value)
  return text ~= 'false' and text ~= 'no' and text ~= '0'
end

local function read_options(meta)
  for name, spec in pairs(meta['callout-types'] or {}) do
    TYPES[name] = {
      label = spec.label and stringify(spec.label) or (name:sub(1, 1):upper() .. name:sub(2)),
      color = spec.color and stringify(spec.color) or '#555555',
    }
  end
  meta['callout-types'] = nil
  if meta['callout-appearance'] then options.appearance = stringify(meta['callout-appearance']) end
  options.icon = truthy(meta['callout-icon'], true)
  -- Quarto's `language:` overrides (`callout-tip-title: Astuce`), also accepted at top level.
  for _, source in ipairs({ meta, meta.language or {} }) do
    for key, value in pairs(source) do
      local name = type(key) == 'string' and key:match('^callout%-(.+)%-title$')
      if name then options.titles[name] = value end
    end
  end
  return meta
end

-- The callout's type: Quarto's five, a declared one, 'none' for a plain `.callout`; nil for
-- any other div. As in Quarto, an undeclared `.callout-x` is no callout but a plain div.
local function callout_type(div)
  for _, class in ipairs(div.classes) do
    if class == 'callout' then return 'none' end
    local name = class:match('^callout%-(.+)$')
    if name and TYPES[name] then return name end
  end
end

-- The title: the `title` attribute (markdown), else a first heading (taken out of the body).
local function take_title(div)
  local title = div.attributes['title']
  if title and title ~= '' then
    local blocks = pandoc.read(title, 'markdown').blocks
    return blocks[1] and blocks[1].content or pandoc.Inlines(title)
  end
  local first = div.content[1]
  if first and first.t == 'Header' then
    div.content:remove(1)
    return first.content
  end
end

local function default_title(name)
  if options.titles[name] then return pandoc.Inlines(options.titles[name]) end
  if name == 'none' then return nil end
  return pandoc.Inlines(TYPES[name].label)
end

local function latex(text) return pandoc.RawBlock('latex', text) end

local function as_latex(inlines)
  return (pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), 'latex'):gsub('%s+$', ''))
end

local function as_html(inlines)
  return (pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), 'html'):gsub('%s+$', ''))
end

local function latex_callout(name, spec, title, appearance, content)
  used_latex = true
  local cname = 'callout' .. name:gsub('[^%a]', '')
  local color = spec.color:gsub('#', '')
  local box
  if appearance == 'default' and title then
    box = ('\\begin{tcolorbox}[colback=%s!5!white,colframe=%s,fonttitle=\\bfseries,title={%s}]')
      :format(cname, cname, as_latex(title))
  else
    box = ('\\begin{tcolorbox}[colback=white,colframe=%s,boxrule=0.4pt,leftrule=3pt]'):format(cname)
    if title then box = box .. ('\\textbf{%s}\\par\\smallskip'):format(as_latex(title)) end
  end
  local blocks = pandoc.Blocks({
    latex(('\\definecolor{%s}{HTML}{%s}'):format(cname, color)),
    latex(box),
  })
  blocks:extend(content)
  blocks:insert(latex('\\end{tcolorbox}'))
  return blocks
end

local function html_callout(div, name, spec, title, appearance, icon, collapse)
  local classes = { 'callout', 'callout-style-' .. appearance, 'callout-' .. name }
  if not icon then classes[#classes + 1] = 'no-icon' end
  if #div.content == 0 then classes[#classes + 1] = 'callout-empty-content' end
  for _, class in ipairs(div.classes) do
    if not class:match('^callout') then classes[#classes + 1] = class end
  end
  -- a list of pairs, not a Lua table: a table's order changes from run to run, and so would
  -- the page; ours first, then the author's in the order written
  local attributes = { { 'style', '--callout-color: ' .. spec.color }, { 'data-callout', name } }
  for _, kv in ipairs(div.attributes) do
    local k = kv[1]
    if k ~= 'title' and k ~= 'appearance' and k ~= 'icon' and k ~= 'collapse'
        and k ~= 'style' and k ~= 'data-callout' then
      attributes[#attributes + 1] = { k, kv[2] }
    end
  end
  local icon_html = '<div class="callout-icon-container"><i class="callout-icon'
    .. (icon and '' or ' no-icon') .. '"></i></div>'
  local body = pandoc.Div(div.content, { class = 'callout-body-container callout-body' })
  if not title then
    local inner = pandoc.Div({ pandoc.RawBlock('html', icon_html), pandoc.Div(div.content,
      { class = 'callout-body-container' }) }, { class = 'callout-body d-flex' })
    return pandoc.Div({ inner }, pandoc.Attr(div.identifier, classes, attributes))
  end
  table.insert(classes, 4, 'callout-titled')
  local header = icon_html .. '<div class="callout-title-container flex-fill">' .. as_html(title) .. '</div>'
  if collapse == nil then
    return pandoc.Div({
      pandoc.RawBlock('html', '<div class="callout-header d-flex align-content-center">' .. header .. '</div>'),
      body,
    }, pandoc.Attr(div.identifier, classes, attributes))
  end
  -- Collapsible without a script: the header is the <summary> of a <details>.
  collapse_count = collapse_count + 1
  local open = collapse and '' or ' open'
  return pandoc.Div({
    pandoc.RawBlock('html', ('<details class="callout-collapse" id="callout-%d"%s>'):format(collapse_count, open)
      .. '<summary class="callout-header d-flex align-content-center' .. (collapse and ' collapsed' or '')
      .. '">' .. header .. '<div class="callout-btn-toggle"><i class="callout-toggle"></i></div></summary>'),
    body,
    pandoc.RawBlock('html', '</details>'),
  }, pandoc.Attr(div.identifier, classes, attributes))
end

local function Div(div)
  local name = callout_type(div)
  if not name then return nil end
  local spec = name == 'none' and UNTYPED or TYPES[name]
  local appearance = div.attributes['appearance'] or options.appearance
  if name == 'none' and not div.attributes['appearance'] then appearance = 'simple' end
  if appearance ~= 'simple' and appearance ~= 'minimal' then appearance = 'default' end
  -- as in Quarto, only the built-in types have an icon
  local icon = BUILTIN[name] ~= nil and truthy(div.attributes['icon'], options.icon)
  if appearance == 'minimal' then icon, appearance = false, 'simple' end
  local collapse = div.attributes['collapse']
  if collapse ~= nil then collapse = truthy(collapse, false) end
  local title = take_title(div)
  if not title and appearance == 'default' then title = default_title(name) end

  if FORMAT:match('latex') or FORMAT:match('beamer') then
    return latex_callout(name, spec, title, appearance, div.content)
  end
  return html_callout(div, name, spec, title, appearance, icon, collapse)
end

-- The LaTeX packages the boxes need, added to the preamble so plain pandoc works too.
local function add_packages(meta)
  if not used_latex then return nil end
  local includes = meta['header-includes']
  if includes == nil then
    includes = pandoc.List({})
  elseif pandoc.utils.type(includes) ~= 'List' then
    includes = pandoc.List({ includes })
  end
  includes:insert(pandoc.MetaBlocks({ latex('\\usepackage{tcolorbox}\n\\tcbuselibrary{breakable}') }))
  meta['header-includes'] = includes
  return meta
end

return {
  { Meta = read_options },
  { Div = Div },
  { Meta = add_packages },
}
