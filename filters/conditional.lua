--[[
conditional.lua: Quarto's conditional content on divs and spans.

  ::: {.content-visible when-format="html"}   shown only in HTML
  ::: {.content-hidden unless-format="pdf"}   hidden everywhere but the PDF
  [text]{.content-visible when-meta="draft"}  shown when metadata `draft` is true

Conditions (all must hold): when-format / unless-format (html, pdf or latex, markdown, docx,
…), when-meta / unless-meta (a dotted metadata key whose value is true), when-profile /
unless-profile (an active project profile: metadata `quarto-profile`, which bookbuild sets,
else QUARTO_PROFILE, as Quarto reads it). `.content-visible`
without conditions always shows; `.content-hidden` without conditions always hides. The kept
element loses the classes and attributes; its content stays in place.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify

local meta = {}

local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
local rules = loadfile(pandoc.path.join({ here, 'quarto_rules.lua' }))(here)  -- quarto-rules.json
-- Quarto's format aliases: a name in when-format matches these pandoc writers.
local ALIASES = rules.format_aliases

local function format_matches(name)
  local writer = FORMAT:gsub('[%+%-].*$', '')
  for _, alias in ipairs(ALIASES[name] or { name }) do
    if writer == alias then return true end
  end
  return false
end

-- Chapter metadata of a book concatenated into one document (bookbuild's PDF): a wrapping
-- `::: {.chapter-meta true-meta="a b.c" false-meta="d"}` says which keys hold in that chapter.
local chapter = nil

local function meta_true(key)
  if chapter and chapter[key] ~= nil then return chapter[key] end
  local value = meta
  for part in key:gmatch('[^%.]+') do
    if type(value) ~= 'table' then return false end
    value = value[part]
  end
  if value == nil then return false end
  if type(value) == 'boolean' then return value end
  local text = stringify(value)
  return text == 'true' or text == 'yes'
end

local CONDITIONS = { 'when-format', 'unless-format', 'when-meta', 'unless-meta',
                     'when-profile', 'unless-profile' }

-- Whether `name` is an active project profile.
local function profile_active(name)
  local active = meta['quarto-profile']
  if active == nil then
    active = {}
    for p in (os.getenv('QUARTO_PROFILE') or ''):gmatch('[^%s,]+') do active[#active + 1] = p end
  elseif type(active) ~= 'table' then
    active = { active }
  end
  for _, p in ipairs(active) do
    if stringify(p) == name then return true end
  end
  return false
end

local function matches(name, item)
  if name:match('format$') then return format_matches(item) end
  if name:match('profile$') then return profile_active(item) end
  return meta_true(item)
end

-- Whether every condition on the element holds (true when there are none).
local function conditions_hold(el)
  local a = el.attributes
  for _, name in ipairs(CONDITIONS) do
    local value = a[name]
    if value then
      local any = false
      for item in value:gmatch('[^%s,]+') do
        any = any or matches(name, item)
      end
      if name:match('^when') and not any then return false end
      if name:match('^unless') and any then return false end
    end
  end
  return true
end

local function strip(el)
  el.classes = el.classes:filter(function(c) return c ~= 'content-visible' and c ~= 'content-hidden' end)
  for _, name in ipairs(CONDITIONS) do
    el.attributes[name] = nil
  end
  return el
end

local function decide(el)
  local visible = el.classes:includes('content-visible')
  local hidden = el.classes:includes('content-hidden')
  if not visible and not hidden then return nil end
  local show = conditions_hold(el)
  if hidden then show = not show end
  if not show then return {} end
  el = strip(el)
  if el.identifier == "" and #el.classes == 0 and #el.attributes == 0 then
    return el.content  -- nothing left to carry: unwrap
  end
  return el
end

local function keys(text, value, into)
  for key in (text or ''):gmatch('%S+') do into[key] = value end
  return into
end

local function chapter_scope(div)
  if not div.classes:includes('chapter-meta') then return nil end
  chapter = keys(div.attributes['false-meta'], false, keys(div.attributes['true-meta'], true, {}))
  local content = pandoc.Div(div.content):walk({ Div = decide, Span = decide }).content
  chapter = nil
  return content, false
end

return {
  { Meta = function(m) meta = m end },
  { traverse = 'topdown', Div = chapter_scope },
  { Div = decide, Span = decide },
}
