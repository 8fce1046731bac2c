-- Twenty classics, as a developer would add them with the diesel CLI
-- (the same SQL on both backends):
--   diesel migration run --migration-dir seeds                                   # SQLite
--   diesel --config-file diesel.pg.toml migration run --migration-dir seeds      # PostgreSQL
-- Plain SQL: no ids, no timestamps, no versions. The database fills them in,
-- and its triggers tell every running folio what changed.
INSERT INTO books (title, author, published_year, description) VALUES
    ('Pride and Prejudice', 'Jane Austen', 1813, 'Elizabeth Bennet and Mr Darcy, and the first impressions both must overcome.'),
    ('Frankenstein', 'Mary Shelley', 1818, 'A young scientist makes a living being and flees from what he has made.'),
    ('Jane Eyre', 'Charlotte Brontë', 1847, 'An orphaned governess who will not be anyone''s but her own.'),
    ('Wuthering Heights', 'Emily Brontë', 1847, 'Heathcliff and Catherine on the Yorkshire moors, and the ruin of two families.'),
    ('Moby-Dick', 'Herman Melville', 1851, 'Captain Ahab''s hunt for the white whale, told by Ishmael.'),
    ('Madame Bovary', 'Gustave Flaubert', 1857, 'A doctor''s wife in provincial Normandy who wants the life of novels.'),
    ('Great Expectations', 'Charles Dickens', 1861, 'Pip, an unknown benefactor, and what it means to be a gentleman.'),
    ('Crime and Punishment', 'Fyodor Dostoevsky', 1866, 'A poor student in St Petersburg commits a murder and cannot escape it.'),
    ('War and Peace', 'Leo Tolstoy', 1869, 'Five families through the Napoleonic wars in Russia.'),
    ('Middlemarch', 'George Eliot', 1871, 'A provincial town and the lives that cross in it.'),
    ('Anna Karenina', 'Leo Tolstoy', 1878, 'A love affair that Russian society will not forgive.'),
    ('The Brothers Karamazov', 'Fyodor Dostoevsky', 1880, 'Three brothers, their father''s murder, and the question of faith.'),
    ('The Adventures of Huckleberry Finn', 'Mark Twain', 1884, 'Huck and Jim down the Mississippi on a raft.'),
    ('The Picture of Dorian Gray', 'Oscar Wilde', 1890, 'A portrait ages in a locked room while its subject does not.'),
    ('Dracula', 'Bram Stoker', 1897, 'A count from Transylvania comes to England, told in letters and diaries.'),
    ('Heart of Darkness', 'Joseph Conrad', 1899, 'A journey up the Congo River to find the ivory trader Kurtz.'),
    ('Ulysses', 'James Joyce', 1922, 'One day in Dublin, 16 June 1904.'),
    ('Mrs Dalloway', 'Virginia Woolf', 1925, 'A June day in London as Clarissa Dalloway prepares a party.'),
    ('The Great Gatsby', 'F. Scott Fitzgerald', 1925, 'Jay Gatsby''s parties on Long Island and the green light across the bay.'),
    ('The Trial', 'Franz Kafka', 1925, 'Josef K. is arrested one morning and never learns for what.');
