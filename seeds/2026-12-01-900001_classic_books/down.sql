DELETE FROM books WHERE (title, author) IN (VALUES
    ('Pride and Prejudice', 'Jane Austen'), ('Frankenstein', 'Mary Shelley'),
    ('Jane Eyre', 'Charlotte Brontë'), ('Wuthering Heights', 'Emily Brontë'),
    ('Moby-Dick', 'Herman Melville'), ('Madame Bovary', 'Gustave Flaubert'),
    ('Great Expectations', 'Charles Dickens'), ('Crime and Punishment', 'Fyodor Dostoevsky'),
    ('War and Peace', 'Leo Tolstoy'), ('Middlemarch', 'George Eliot'),
    ('Anna Karenina', 'Leo Tolstoy'), ('The Brothers Karamazov', 'Fyodor Dostoevsky'),
    ('The Adventures of Huckleberry Finn', 'Mark Twain'), ('The Picture of Dorian Gray', 'Oscar Wilde'),
    ('Dracula', 'Bram Stoker'), ('Heart of Darkness', 'Joseph Conrad'),
    ('Ulysses', 'James Joyce'), ('Mrs Dalloway', 'Virginia Woolf'),
    ('The Great Gatsby', 'F. Scott Fitzgerald'), ('The Trial', 'Franz Kafka'));
