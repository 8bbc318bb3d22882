"""What the built-in prompts are made of: task templates, topics with their keyword pools, names,
situations, and the values instructions draw from (forbidden words, end phrases, first words...).

Plain data, kept apart from the generator (`rtt.generator.builtin`) so that both read easily.
"""

TASKS = (
    "Write a short note about {topic}.",
    "Describe {topic} in a few sentences.",
    "Give some practical tips about {topic}.",
    "Explain {topic} to a child.",
    "Write a product blurb for a book about {topic}.",
    "Write a short email to a friend about {topic}.",
    "Write a short poem about {topic}.",
    "Tell a very short story about {topic}.",
    "List a few facts about {topic}.",
    "Write a short diary entry about {topic}.",
    "Write a social media post about {topic}.",
    "Why do people like {topic}? Answer briefly.",
    "Write an email to {name} inviting them to a free workshop on {topic}.",
    "Write a letter to the editor of a local newspaper about {topic}.",
    "Write a product description for a {product} made for fans of {topic}.",
    "Write a short review of a documentary about {topic}.",
    "Plan a weekend for someone who wants to get into {topic}.",
    "Write a how-to guide for beginners who are curious about {topic}.",
    "Write a short dialogue between two friends who disagree about {topic}.",
    "Summarize this situation for a friend who missed it: {situation}",
    "Here is what happened: {situation} Write a short summary of it.",
    "Read this situation and suggest what {name} could do next: {situation}",
    "Write a thank-you note to {name}, who taught you about {topic}.",
    "Write a short speech for {audience} about {topic}.",
    "Write a cover letter for a volunteer position related to {topic}.",
    "Write the introduction of a blog post about {topic}.",
    "Write a limerick about {topic}.",
    "Write a short FAQ about {topic}.",
    "Write a checklist for someone who is just starting with {topic}.",
    "Compare {topic} with {other} for a curious teenager.",
    "Write a short news report about a town festival devoted to {topic}.",
    "Write an advertisement for an evening class about {topic}.",
    "Write a motivational message for {audience} who are learning about {topic}.",
    "Write a short profile of {name}, a made-up expert on {topic}.",
    "Describe a perfect afternoon that involves {topic}.",
    "Write a polite complaint about a {product} that was supposed to help with {topic}.",
    "Write a short lesson plan for teaching {topic} to {audience}.",
    "Explain the pros and cons of {topic}.",
    "Recommend a way for {name} to learn more about {topic}.",
    "Write a toast for a party themed around {topic}.",
    "Write a short mystery story in which a clue about {topic} solves the case.",
    "Write a text message to {name} about {topic}.",
    "Describe a museum exhibit about {topic}.",
    "Write the agenda for a club meeting about {topic}.",
    "What is the best thing about {topic}? Answer in a short paragraph.",
    "Write the opening of a fairy tale about {topic}.",
    "Write a short reflection on a lesson you learned from {topic}.",
    "Explain to {audience} why it is worth learning about {topic}.",
    "Write a brief guide to {topic} for {audience}.",
    "Write a customer review of a {product} you used for {topic}.",
    "Write a short bedtime story about {topic} for {name}.",
    "Write a postcard to {name} from a trip focused on {topic}.",
    "Give {name} friendly advice about {topic}.",
    "Describe how {topic} might change over the next twenty years.",
)

# yes/no questions: the task of a constrained_response prompt
QUESTIONS = (
    "Would you recommend {topic} to a friend who is bored?",
    "Would {topic} make a good subject for a school project?",
    "Should everyone learn a little about {topic}?",
    "Are people wrong to find {topic} boring?",
    "Could {topic} be a good theme for a birthday party?",
    "Would a ten-year-old enjoy an afternoon about {topic}?",
    "Would reading about {topic} be a good way to spend a rainy weekend?",
    "Can {topic} make someone happier?",
    "Would {topic} make a good topic for a short podcast episode?",
    "Would a grandparent find {topic} easy to understand?",
)

# topic -> words a response on it naturally uses (the keyword pool)
TOPICS = {
    "the ocean": ("ocean", "waves", "fish", "salt", "tide"),
    "coffee": ("coffee", "beans", "morning", "cup", "roast"),
    "bicycles": ("bike", "wheels", "ride", "helmet", "pedal"),
    "gardening": ("garden", "plants", "soil", "seeds", "weeds"),
    "the moon": ("moon", "night", "light", "orbit", "craters"),
    "rainy days": ("rain", "umbrella", "clouds", "puddles", "boots"),
    "dogs": ("dog", "walk", "play", "leash", "bark"),
    "cats": ("cat", "sleep", "purr", "whiskers", "paws"),
    "learning to cook": ("cook", "kitchen", "recipe", "pan", "taste"),
    "a city park": ("park", "trees", "bench", "path", "pond"),
    "libraries": ("library", "books", "read", "shelves", "silence"),
    "the mountains": ("mountain", "snow", "climb", "peak", "trail"),
    "baking bread": ("bread", "oven", "flour", "dough", "crust"),
    "recycling": ("recycle", "plastic", "waste", "bins", "paper"),
    "honey bees": ("bees", "honey", "flowers", "hive", "pollen"),
    "winter": ("winter", "cold", "ice", "scarf", "frost"),
    "the night sky": ("stars", "sky", "dark", "planets", "telescope"),
    "music practice": ("music", "practice", "song", "notes", "rhythm"),
    "trains": ("train", "station", "travel", "tracks", "ticket"),
    "drinking water": ("water", "health", "glass", "thirst", "bottle"),
    "chess": ("chess", "board", "move", "pieces", "king"),
    "volcanoes": ("volcano", "lava", "eruption", "ash", "magma"),
    "sleep": ("sleep", "bed", "rest", "dreams", "pillow"),
    "friendship": ("friend", "trust", "share", "laugh", "support"),
    "the desert": ("desert", "sand", "heat", "cactus", "dunes"),
    "apples": ("apple", "tree", "fruit", "orchard", "harvest"),
    "rivers": ("river", "boat", "bank", "current", "stream"),
    "the internet": ("internet", "computer", "online", "network", "search"),
    "a museum visit": ("museum", "art", "history", "gallery", "exhibit"),
    "camping": ("tent", "fire", "forest", "lantern", "backpack"),
    "public transport": ("bus", "route", "passengers", "fare", "schedule"),
    "photography": ("camera", "photo", "lens", "frame", "shadow"),
    "board games": ("game", "dice", "cards", "rules", "players"),
    "running": ("run", "shoes", "pace", "miles", "breath"),
    "swimming": ("swim", "pool", "lap", "goggles", "splash"),
    "birdwatching": ("birds", "feathers", "nest", "binoculars", "wings"),
    "tea": ("tea", "leaves", "kettle", "steep", "mug"),
    "thunderstorms": ("thunder", "lightning", "storm", "wind", "sky"),
    "houseplants": ("plant", "pot", "leaves", "sunlight", "soil"),
    "autumn leaves": ("autumn", "leaves", "colors", "rake", "breeze"),
    "a farmers market": ("market", "vegetables", "farmers", "stall", "fresh"),
    "learning a new language": ("language", "words", "grammar", "speak", "lessons"),
    "saving money": ("money", "budget", "savings", "bank", "spend"),
    "volunteering": ("volunteer", "help", "community", "team", "time"),
    "robots": ("robot", "sensors", "machine", "program", "arm"),
    "dinosaurs": ("dinosaur", "fossil", "bones", "extinct", "teeth"),
    "the rainforest": ("rainforest", "trees", "species", "canopy", "rain"),
    "bridges": ("bridge", "steel", "span", "cross", "river"),
    "lighthouses": ("lighthouse", "coast", "ships", "keeper", "beam"),
    "kites": ("kite", "wind", "string", "sky", "tail"),
    "snow days": ("snow", "sled", "school", "cocoa", "snowman"),
    "pizza": ("pizza", "cheese", "dough", "oven", "slice"),
    "the solar system": ("planets", "sun", "orbit", "space", "moon"),
    "first aid": ("bandage", "wound", "safety", "kit", "calm"),
    "knitting": ("yarn", "needles", "stitch", "scarf", "wool"),
    "a long road trip": ("car", "road", "map", "drive", "snacks"),
    "city traffic": ("traffic", "cars", "roads", "signals", "commute"),
    "old photographs": ("photo", "album", "memories", "faces", "family"),
    "bird migration": ("birds", "flight", "south", "season", "flock"),
    "puzzles": ("puzzle", "pieces", "solve", "clue", "pattern"),
    "the weather": ("weather", "sun", "clouds", "forecast", "wind"),
    "ice cream": ("cream", "cone", "flavor", "sweet", "cold"),
    "moving to a new city": ("city", "move", "boxes", "neighbors", "home"),
    "a first job": ("job", "work", "boss", "office", "learn"),
    "exercise": ("exercise", "muscles", "health", "stretch", "energy"),
    "the beach": ("beach", "sand", "sun", "shells", "waves"),
    "forests": ("forest", "trees", "moss", "trail", "birds"),
    "a birthday party": ("party", "cake", "gifts", "candles", "friends"),
    "family dinners": ("dinner", "table", "family", "meal", "talk"),
    "writing letters": ("letter", "pen", "paper", "stamp", "mail"),
    "clocks": ("clock", "time", "hands", "tick", "hour"),
    "smartphones": ("phone", "screen", "apps", "battery", "call"),
    "mushrooms": ("mushroom", "forest", "spores", "cap", "soup"),
    "the zoo": ("zoo", "animals", "keeper", "lion", "feeding"),
    "sunflowers": ("sunflower", "seeds", "petals", "field", "sun"),
    "a science fair": ("science", "project", "poster", "experiment", "judges"),
    "hiking": ("hike", "trail", "boots", "view", "map"),
    "a healthy breakfast": ("breakfast", "oats", "fruit", "eggs", "morning"),
    "space travel": ("rocket", "space", "astronaut", "launch", "orbit"),
}
TOPIC_NAMES = tuple(sorted(TOPICS))

NAMES = (
    "Maya",
    "Leo",
    "Priya",
    "Tom",
    "Amara",
    "Jonas",
    "Elena",
    "Sam",
    "Nadia",
    "Oscar",
    "Ruth",
    "Kenji",
    "Lucia",
    "Ben",
    "Fatima",
    "Hugo",
)
AUDIENCES = (
    "a group of retirees",
    "first-year students",
    "new neighbors",
    "a team of nurses",
    "middle school students",
    "busy parents",
    "a book club",
    "office workers",
    "young scouts",
)
PRODUCTS = (
    "water bottle",
    "notebook",
    "backpack",
    "phone app",
    "board game",
    "wall calendar",
    "desk lamp",
    "pair of gloves",
    "tote bag",
    "travel mug",
)
PLACES = ("library", "community center", "town hall", "school gym", "old train station", "park pavilion")
DAYS = ("Monday", "a rainy Saturday", "the first day of spring", "a quiet Sunday", "a busy Friday")
SITUATIONS = (
    "{name} organized a small meetup about {topic} at the {place}, but only two people came, so they moved "
    "the talk to a cafe and ended up staying for hours.",
    "On {day}, {name} tried to teach a neighbor about {topic}. It went badly at first, but a simple drawing "
    "on a napkin finally made everything clear.",
    "{name} borrowed a book about {topic} from the {place} and forgot to return it for a month. When it "
    "finally came back, the librarian asked for a review instead of a fine.",
    "A class spent {day} learning about {topic}. Halfway through the power went out, and {name} kept the "
    "lesson going with a flashlight and a lot of questions.",
    "{name} entered a local contest about {topic} as a joke and, to everyone's surprise, won second place "
    "and a free dinner.",
    "The {place} planned an open day about {topic}. The posters had the wrong date, yet {name} still brought "
    "twenty curious visitors on the right day.",
    "{name} and a cousin argued all week about {topic}. On {day} they finally tried it together and agreed "
    "that they had both been partly right.",
    "After a long talk about {topic} at the {place}, {name} lost a notebook full of ideas. A stranger "
    "returned it the next morning with a kind note inside.",
)

FORBIDDEN_POOL = (
    "very",
    "really",
    "thing",
    "stuff",
    "basically",
    "actually",
    "literally",
    "nice",
    "totally",
    "simply",
    "quite",
    "awesome",
    "amazing",
    "lots",
    "pretty",
    "okay",
)
END_PHRASES = (
    "Is there anything else you would like to know?",
    "Thank you for reading.",
    "Have a great day!",
    "Let me know if you have any questions.",
    "That is all for now.",
    "See you next time.",
    "Hope this helps.",
    "Stay curious.",
    "Until next time!",
    "Take care and be well.",
)
FIRST_WORDS = (
    "first",
    "next",
    "however",
    "finally",
    "today",
    "overall",
    "meanwhile",
    "still",
    "later",
    "sometimes",
    "imagine",
    "then",
)
SECTION_SPLITTERS = ("Section", "SECTION", "Part", "PART")
LANGUAGES = ("es", "fr", "de", "it", "pt")  # ISO 639-1 codes asked for; names in rtt.constraints.checkers.LANGUAGES
CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
RELATION_WORDS = {"less than": "fewer than", "at least": "at least"}
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")

# rtt's further kinds (rtt.constraints.extended)
WORD_RANGES = ((30, 60), (30, 80), (40, 80), (40, 100), (50, 100), (60, 120), (80, 120))
SENTENCE_RANGES = ((2, 4), (2, 5), (3, 5), (3, 6), (4, 6), (4, 8), (5, 8))
PARAGRAPH_RANGES = ((2, 3), (2, 4), (3, 4), (3, 5))
BULLET_RANGES = ((2, 3), (2, 4), (3, 5), (3, 6))
PHRASE_COUNTS = ((1, 2), (1, 3), (2, 3), (2, 4), (3, 5))
FORBIDDEN_PHRASES = (
    "in conclusion",
    "to be honest",
    "of course",
    "in my opinion",
    "needless to say",
    "at the end of the day",
    "all in all",
    "as you know",
    "in summary",
    "first of all",
    "last but not least",
    "believe it or not",
    "it goes without saying",
    "to sum up",
)
START_PHRASES = (
    "Here is",
    "Did you know",
    "Imagine",
    "In short",
    "Good news",
    "Picture this",
    "Let me explain",
    "Once upon a time",
    "Dear reader",
    "Hello there",
    "To begin with",
    "Quick summary",
)
JSON_KEYS = ("title", "summary", "tips", "facts", "answer", "details", "reason", "example", "steps", "mood")
XML_ROOTS = ("note", "answer", "story", "letter", "review", "summary", "tips", "report")
TABLE_COLUMNS = ("Why it matters", "Tip", "Notes", "Good for", "Fun fact", "Rating", "Cost", "When")
FORBIDDEN_CHARACTERS = ("!", ";", "-", "?", ":", "&", "()", "*", "#")
