-- Runs after citeproc on a chapter whose citations are listed on another page (Quarto's
-- references.qmd). citeproc linked each cited work to its entry in a bibliography it appended
-- to this page: that list goes, and each link goes to the entry on the references page.
-- Without `bookbuild-refs-page` in the metadata the page is left as it is.

function Pandoc(doc)
  local page = doc.meta['bookbuild-refs-page']
  if page == nil then return nil end
  page = pandoc.utils.stringify(page)
  doc.meta['bookbuild-refs-page'] = nil
  local blocks = pandoc.Blocks({})
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Div' and block.identifier == 'refs' then
      -- and the heading citeproc puts over it (`reference-section-title`)
      local last = blocks[#blocks]
      if last and last.t == 'Header' and last.identifier == 'bibliography' then
        blocks:remove(#blocks)
      end
    else
      blocks:insert(block)
    end
  end
  doc.blocks = blocks:walk({
    Link = function(link)
      if link.target:match('^#ref%-') then
        link.target = page .. link.target
        return link
      end
    end,
  })
  return doc
end
