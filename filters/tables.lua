-- Quarto's `tbl-colwidths`: on a table's caption (`: Caption {tbl-colwidths="[20,80]"}`), from
-- a cell's option, or for the whole document. A list of percentages sets the columns' widths
-- (the last repeats; a sum over 100 is scaled down); `false` gives every column its natural
-- width; `auto` does so only for a table holding a link; `true` (the default) leaves pandoc's.

local KEY = 'tbl-colwidths'
local stringify = pandoc.utils.stringify
local document = nil  -- the document's own `tbl-colwidths`, when it sets one

-- A metadata or attribute value as true, false, 'auto' or a list of numbers (nil: unset).
local function realize(value)
  if value == nil then return nil end
  if type(value) == 'boolean' then return value end
  if pandoc.utils.type(value) == 'List' then
    local out = {}
    for _, v in ipairs(value) do out[#out + 1] = tonumber(stringify(v)) end
    return out
  end
  local text = stringify(value):gsub('^%s+', ''):gsub('%s+$', '')
  if text == 'true' then return true end
  if text == 'false' then return false end
  if text == 'auto' then return 'auto' end
  local out = {}
  for n in text:gmatch('[^%[%],%s]+') do
    local number = tonumber(n)
    if number == nil then return nil end
    out[#out + 1] = number
  end
  return #out > 0 and out or nil
end

local function has_link(tbl)
  local found = false
  tbl:walk({ Link = function() found = true end })
  return found
end

local function simple(tbl)
  local spanned = false
  tbl:walk({ Cell = function(c) if c.row_span ~= 1 or c.col_span ~= 1 then spanned = true end end })
  return not spanned
end

-- The widths (fractions of the line) for a table's columns, or nil to leave them.
local function widths(tbl, setting)
  local n = #tbl.colspecs
  if setting == 'auto' then setting = not has_link(tbl) end
  if setting == true or setting == nil then return nil end
  local out = {}
  if setting == false then
    for i = 1, n do out[i] = 0 end  -- pandoc's "default": the column's natural width
    return out
  end
  local total = 0
  for i = 1, n do
    out[i] = setting[math.min(i, #setting)]
    total = total + out[i]
  end
  local scale = total > 100 and total or 100
  for i = 1, n do out[i] = math.floor(out[i] / scale * 10000 + 0.5) / 10000 end
  return out
end

return {
  { Meta = function(meta) document = realize(meta[KEY]) end },
  { Table = function(tbl)
      local own = realize(tbl.attributes[KEY])
      tbl.attributes[KEY] = nil
      local setting = own
      if setting == nil then setting = document end
      local w = simple(tbl) and widths(tbl, setting) or nil
      if w == nil then return tbl end
      for i, spec in ipairs(tbl.colspecs) do
        tbl.colspecs[i] = { spec[1], w[i] > 0 and w[i] or pandoc.ColWidthDefault }
      end
      return tbl
    end },
}
