-- citeproc for the pandoc worker, remembered across pages.
--
-- pandoc.utils.citeproc parses the citation style and its locale on every call: about 20 ms
-- of each page, whatever its citations. What citeproc makes of a page depends only on the
-- page's citations in order, its #refs divs and a dozen metadata fields (pandoc's
-- Text.Pandoc.Citeproc). So citeproc runs on a skeleton holding just those, and its result is
-- put back into the page; a later page with the same skeleton (preview's next prose edit) gets
-- the remembered result. The page comes out as citeproc on the whole page would make it
-- (tests/test_pandoc_worker.py compares with the command line). Where the result would depend
-- on more (note styles move notes and punctuation, superscript citations eat the space before
-- them, a citation ending in "." eats the next one, positions reset by section), the whole
-- page goes through citeproc as before.

local M = {}
local citeproc = pandoc.utils.citeproc -- pandoc's own, whatever a page's filter replaces

-- The metadata processCitations reads.
local KEYS = { 'bibliography', 'references', 'csl', 'citation-style', 'citation-abbreviations',
               'lang', 'locale', 'nocite', 'link-citations', 'link-bibliography',
               'suppress-bibliography', 'reference-section-title', 'notes-after-punctuation' }

local LIMIT = 16 -- results kept; forgotten wholesale past that
local memo, size, last_id = {}, 0, 0
local whole_pages = {} -- styles (by their files) whose citations depend on their surroundings

local function is_refs(div)
  local id = div.identifier
  return id == 'refs' or id:sub(-6) == '__refs'
end

local function read(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local text = f:read('a')
  f:close()
  return text
end

local function truthy(value)
  if value == nil then return false end
  if type(value) == 'boolean' then return value end
  local s = pandoc.utils.stringify(value):lower()
  return s == 't' or s == 'true' or s == 'yes'
end

-- The texts of the files citeproc will read, or nil when one is not a local file found from
-- the working folder (a URL, the resource path, the user data folder): then no memo.
local function inputs(meta)
  local parts = {}
  local function add(value, extension)
    local name = pandoc.utils.stringify(value)
    if name:match('^%a[%w+.-]*:') then return nil end
    if extension and not name:find('.', 1, true) then name = name .. extension end
    local text = read(name)
    if text then parts[#parts + 1] = name .. '\0' .. text end
    return text
  end
  local bib = meta.bibliography
  if bib ~= nil then
    for _, item in ipairs(pandoc.utils.type(bib) == 'List' and bib or { bib }) do
      if not add(item) then return nil end
    end
  end
  local style
  local csl = meta.csl or meta['citation-style']
  if csl ~= nil then
    style = add(csl, '.csl')
    if not style then return nil end
  elseif PANDOC_STATE.user_data_dir then
    style = read(PANDOC_STATE.user_data_dir .. '/default.csl')
    parts[#parts + 1] = style or ''
  end
  -- a note style turns citations into footnotes and moves punctuation around them
  if style and (style:find('class=["\']note["\']') or style:find('independent%-parent')) then
    return nil
  end
  local abbreviations = meta['citation-abbreviations']
  if abbreviations ~= nil and not add(abbreviations, '.json') then return nil end
  return table.concat(parts, '\0')
end

-- The page's citations in order, its #refs divs, and whether anything else citeproc looks at
-- is there.
local function skeleton(doc)
  local cites, refs, unsafe = {}, {}, false
  doc.blocks:walk {
    traverse = 'topdown',
    Cite = function(c)
      cites[#cites + 1] = c
      return nil, false
    end,
    Div = function(d)
      if d.classes:includes('reset-citation-positions') then unsafe = true end
      if is_refs(d) then
        refs[#refs + 1] = d
        d.content:walk { Div = function(inner) if is_refs(inner) then unsafe = true end end }
      end
    end,
    Header = function(h)
      if h.classes:includes('reset-citation-positions') then unsafe = true end
    end,
    Span = function(s) -- citeproc unwraps every such span, the page's own ones too
      if s.identifier == '' and #s.classes == 1 and s.classes[1] == 'csl-quoted'
          and #s.attributes == 0 then
        unsafe = true
      end
    end,
  }
  return cites, refs, unsafe
end

-- citeproc's output for the skeleton, split into what goes back into the page; nil when the
-- citations came out in a shape whose surroundings citeproc would also change, with true when
-- that is the style's doing (notes, superscripts) and so will be on every page.
local function resolve(mini, ncites, nrefs)
  local out = citeproc(mini).blocks
  local cites, divs, tail = {}, {}, {}
  for i = 1, ncites do
    local block = out[i]
    if not block or block.t ~= 'Para' or #block.content ~= 1 or block.content[1].t ~= 'Cite' then
      return nil
    end
    local cite = block.content[1]
    local first = cite.content[1]
    if first and (first.t == 'Superscript' or first.t == 'Note') then return nil, true end
    if pandoc.utils.stringify(cite.content):sub(-1) == '.' then return nil end
    cites[i] = cite
  end
  for j = 1, nrefs do
    local block = out[ncites + j]
    if not block or block.t ~= 'Div' then return nil end
    divs[j] = block
  end
  for k = ncites + nrefs + 1, #out do tail[#tail + 1] = out[k] end
  return { cites = cites, divs = divs, tail = tail }
end

-- The page with the citations, the #refs divs and the bibliography of `result` put back.
local function put_back(doc, result)
  local i = 0
  doc.blocks = doc.blocks:walk {
    traverse = 'topdown',
    Cite = function()
      i = i + 1
      return result.cites[i], false
    end,
  }
  local j = 0
  doc.blocks = doc.blocks:walk {
    traverse = 'topdown',
    Div = function(d)
      if not is_refs(d) then return nil end
      j = j + 1
      local made = result.divs[j]
      local content = pandoc.Blocks(d.content)
      content:extend(made.content)
      return pandoc.Div(content, made.attr), false
    end,
  }
  if #result.tail > 0 then
    -- no #refs div: as citeproc does, a last heading becomes the bibliography's (unnumbered)
    -- unless reference-section-title gave it one
    local last = doc.blocks[#doc.blocks]
    if result.tail[1].t ~= 'Header' and last and last.t == 'Header' then
      local classes = pandoc.List { 'unnumbered' }
      for _, c in ipairs(last.classes) do
        if c ~= 'unnumbered' then classes:insert(c) end
      end
      last.classes = classes
      doc.blocks[#doc.blocks] = last
    end
    doc.blocks:extend(result.tail)
  end
  return doc
end

-- `doc` after citeproc. `mark(kind, id)` writes a marker line on stderr for the worker's host:
-- the warnings citeproc prints between 'begin' and 'end' are the page's and are kept, to be
-- given again on 'again'; those between 'begin' and 'drop' are not (the whole page follows).
function M.citeproc(doc, mark)
  local files = inputs(doc.meta)
  if files == nil or whole_pages[files] or truthy(doc.meta['notes-after-punctuation']) then
    return citeproc(doc)
  end
  local rest = pandoc.Meta {}
  for k, v in pairs(doc.meta) do
    if k ~= 'nocite' then rest[k] = v end
  end
  if pandoc.write(pandoc.Pandoc({}, rest), 'json'):find('"t":"Cite"', 1, true) then
    return citeproc(doc) -- citations in the metadata are the page's too
  end
  local cites, refs, unsafe = skeleton(doc)
  if unsafe then return citeproc(doc) end
  local blocks = pandoc.Blocks {}
  for _, c in ipairs(cites) do blocks:insert(pandoc.Para { c }) end
  for _, d in ipairs(refs) do blocks:insert(pandoc.Div({}, d.attr)) end
  local meta = pandoc.Meta {}
  for _, k in ipairs(KEYS) do meta[k] = doc.meta[k] end
  local mini = pandoc.Pandoc(blocks, meta)
  local key = pandoc.write(mini, 'json') .. '\0' .. files
  local entry = memo[key]
  if entry then
    mark('again', entry.id)
    return put_back(doc, entry.result)
  end
  last_id = last_id + 1
  mark('begin', last_id)
  local result, by_style = resolve(mini, #cites, #refs)
  if result == nil then
    whole_pages[files] = by_style or nil
    mark('drop', last_id)
    return citeproc(doc)
  end
  mark('end', last_id)
  size = size + 1
  if size > LIMIT then memo, size = {}, 1 end
  memo[key] = { id = last_id, result = result }
  return put_back(doc, result)
end

return M
